"""Verify: after deploy, re-plan every targeted statement and check the promise by its plan and cost.

A target passes when its plan uses an index this migration built — any of them, not only the one foreseen at emit: a
later, wider index of the same migration may serve it better (a partition's index counts for its partitioned parent) —
or, using none, when its cost is no more than predicted (another index serves it at least as well); in every case its
cost must not rise above the baseline by more than the tolerance, unless the row estimates of the tables it scans moved
since emit: the planner picks the cheapest path, so an added index cannot raise its cost on the same statistics (a note
says which moved). A statement that used an index a health migration drops passes when its cost did not rise beyond the
tolerance. A failed target always says why. Also reported: planned indexes no target uses, and tables whose statistics
are older than their new indexes (the planner may not cost the index right until ANALYZE).

With ``analyze``, read-only statements are executed inside BEGIN READ ONLY ... ROLLBACK under a statement_timeout
(parameterized ones with the values they were planned with); anything that could write is only planned, never run. A
statement measured slower than at emit, beyond the time tolerance and by more than a millisecond, fails like a cost
regression; one that did not get measurably faster is marked ``nil-gain`` (it passes: its plan is right, but the time
says the index bought nothing). When the predicted and the measured gain differ by more than DISAGREEMENT (2x), the
result says which of cache state, values, plan change, timing noise or the cost model explains it. A run now that read
nothing from disk is compared with the time cut predicted at emit (baseline_pace: the baseline's time over the time an
index scan timed on the table gives the warm predicted cost); without one, two warm runs (every page in shared buffers)
are compared with the cut predicted for a warm cache (baseline_warm), not the one priced with disk reads.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import psycopg

from . import catalog_sql, estimates
from ._text import one_line
from .apply import IndexSize, ObjectStates, analyzed_before_build
from .baseline import PAGE_COUNT_OFF, Measurement, Planned, Timed, plan_target, server_message
from .connect import lost
from .explain import scans
from .plan import Target, load, target_labels
from .verify_baselines import baseline_how, elsewhere, not_comparable
from .verify_pace import at_pace, pace_now, time_or_why
from .verify_phases import Built, PhaseNote, built_indexes, not_in_place, rolled_back_whole, undone_by_rollback
from .verify_roles import RoleCheck

DISAGREEMENT = 2.0   # predicted and measured speed-ups agree within this factor (the one place that says so)
TIME_FLOOR_MS = 1.0  # a measured slowdown smaller than this is noise, whatever its ratio
NIL_GAIN = 1.2       # measured less than this many times faster than at emit: no gain the timing shows
NOISE_MS = 0.05      # predicted and measured under this: a 2-3x miss is noise (prisma_style: 0.012-0.035 ms, one plan)


class Verdict(StrEnum):
    OK = "ok"
    NIL_GAIN = "nil-gain"   # passes (plan and cost as promised), but the measured time did not fall
    FAIL = "fail"
    UNCHECKED = "unchecked"     # not planned: verify may not take the role emit planned it as (verify_roles)
    ROLLED_BACK = "rolled-back"     # its indexes went with a phase rolled back on purpose: no failure


@dataclass
class TargetResult:
    queryid: int | None
    name: str                       # a short name that stays the same for the same statement
    query: str
    expected: list[str]             # the indexes foreseen at emit
    used: list[str]                 # this migration's indexes the plan uses now (a partition's: its parent's)
    plan_indexes: list[str]         # every index the plan uses now
    baseline_cost: float | None
    predicted_cost: float | None    # what suggest predicted with the migration's indexes
    cost: float | None
    verdict: Verdict = Verdict.OK
    problem: str = ""               # why it failed; never empty when it did
    note: str = ""
    baseline_ms: float | None = None
    ms: float | None = None
    baseline_how: str = ""          # how the baseline time was taken, or "planner cost only: <why>"
    measured_how: str = ""          # how ``ms`` was taken
    disagreement: str = ""          # predicted and measured gains more than DISAGREEMENT apart: which cause
    measurement: Measurement = Measurement.NOT_ASKED    # timed now, or which kind of reason it is not
    generic_plan: bool = False      # its generic plan is no dearer than the custom ones: the server runs it
    baseline_read_blocks: int | None = None
    read_blocks: int | None = None
    warm_baseline_cost: float | None = None     # the costs before and predicted, priced for a warm cache
    warm_predicted_cost: float | None = None    # (baseline_warm): compared when both runs were warm
    predicted_with_statistics: bool = False     # predicted with its key expressions' statistics (baseline_warm)
    predicted_ms: float | None = None           # the time predicted with the indexes (baseline_pace), warm
    pace_ms: float | None = None                # its table's reference scan timed at emit (baseline_pace)…
    pace_ms_now: float | None = None            # …and again beside the target now: predicted_ms_now moves with it
    scans_before: list[str] = field(default_factory=list)   # from the plan captured at emit
    scans_now: list[str] = field(default_factory=list)
    # Relations whose row estimates moved since emit (estimates.moved): the statistics changed, not the plan's choice.
    estimates_moved: list[str] = field(default_factory=list)
    heap_pages_planned: float | None = None     # the predicted index scan's heap pages: the planner's count and
    heap_pages_sampled: float | None = None     # a sample's at emit (baseline_pages)
    # Why nothing of it is compared with its baseline (verify_baselines: its values edited since emit), or "".
    not_compared: str = ""
    # With --measure, why it has no time now (``not executed: …``), or "": summed up under the table by reason.
    unmeasured: str = ""

    @classmethod
    def of(cls, t: Target, not_compared: str = "") -> TargetResult:
        """The result for target ``t`` before verify looked: its identity, promise and baselines."""
        return cls(queryid=t.queryid, name=t.label, query=t.query, expected=list(t.expected_indexes), used=[],
                   plan_indexes=[], baseline_cost=t.baseline_cost, predicted_cost=t.predicted_cost, cost=None,
                   baseline_ms=t.baseline_ms, baseline_how=baseline_how(t),
                   baseline_read_blocks=t.baseline_read_blocks, warm_baseline_cost=t.warm_baseline_cost,
                   warm_predicted_cost=t.warm_predicted_cost, predicted_with_statistics=t.predicted_with_statistics,
                   predicted_ms=t.predicted_ms, pace_ms=t.pace_ms, heap_pages_planned=t.heap_pages_planned,
                   heap_pages_sampled=t.heap_pages_sampled, not_compared=not_compared,
                   scans_before=scans(t.baseline_plan) if t.baseline_plan else [])

    @property
    def ok(self) -> bool:
        return self.verdict not in (Verdict.FAIL, Verdict.UNCHECKED)

    def fail(self, problem: str) -> None:
        self.verdict = Verdict.FAIL
        self.problem = "; ".join(x for x in (self.problem, problem) if x)

    def add_note(self, note: str) -> None:
        self.note = "; ".join(x for x in (self.note, note) if x)

    @property
    def ratio(self) -> float | None:
        """The planner's cost cut now: baseline cost / cost now."""
        return self._cut(self.baseline_cost, self.cost)

    @property
    def predicted_ratio(self) -> float | None:
        """The cost cut suggest predicted: baseline cost / predicted cost."""
        return self._cut(self.baseline_cost, self.predicted_cost)

    @property
    def measured_ratio(self) -> float | None:
        """The time cut: baseline ms / ms now."""
        return self._cut(self.baseline_ms, self.ms)

    @property
    def warm_predicted_ratio(self) -> float | None:
        """The cut predicted for a warm cache: warm baseline cost / warm predicted cost."""
        return self._cut(self.warm_baseline_cost, self.warm_predicted_cost)

    @property
    def predicted_ms_now(self) -> float | None:
        """The time predicted with the indexes at the machine's pace now (verify_pace.at_pace)."""
        return at_pace(self.predicted_ms, self.pace_ms, self.pace_ms_now)

    @property
    def predicted_time_ratio(self) -> float | None:
        """The time cut predicted: baseline ms / the time predicted with the indexes (baseline_pace), now."""
        return self._cut(self.baseline_ms, self.predicted_ms_now)

    def _cut(self, before: float | None, after: float | None) -> float | None:
        """``before / after``; None when the baseline is not comparable with now (not_compared)."""
        return None if self.not_compared else _ratio(before, after)

    @property
    def warm(self) -> bool:
        """Both timed runs found every page in shared buffers."""
        return self.baseline_read_blocks == 0 and self.read_blocks == 0

    @property
    def compared_ratio(self) -> float | None:
        """The gain the time cut is compared with. When the run now was warm: the predicted time cut (the
        baseline's measured time over the warm time predicted with the indexes: the two cuts agree when the
        time now is within DISAGREEMENT of the predicted one, whatever the baseline's cache state); else,
        both runs warm, the cut predicted for a warm cache; else the predicted cost cut; else (no
        prediction) the planner's cut now."""
        if self.read_blocks == 0 and self.predicted_time_ratio:
            return self.predicted_time_ratio
        if self.warm and self.warm_predicted_ratio:
            return self.warm_predicted_ratio
        return self.predicted_ratio or self.ratio

    @property
    def agrees(self) -> bool | None:
        """The compared and measured gains are within DISAGREEMENT of each other (None: one is missing)."""
        if not self.compared_ratio or not self.measured_ratio:
            return None
        return _off(self.compared_ratio, self.measured_ratio) <= DISAGREEMENT

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "ratio": self.ratio, "predicted_ratio": self.predicted_ratio,
                "warm_predicted_ratio": self.warm_predicted_ratio, "predicted_time_ratio": self.predicted_time_ratio,
                "predicted_ms_now": self.predicted_ms_now,
                "compared_ratio": self.compared_ratio,
                "measured_ratio": self.measured_ratio}


def _ratio(before: float | None, after: float | None) -> float | None:
    return before / after if before and after else None


@dataclass
class Verification:
    migration_id: str
    targets: list[TargetResult] = field(default_factory=list)
    unused_indexes: list[str] = field(default_factory=list)
    stale_statistics: list[str] = field(default_factory=list)
    sizes: list[IndexSize] = field(default_factory=list)    # forecast at emit, real now
    nil_gain_indexes: list[str] = field(default_factory=list)   # every statement timed on them: no gain
    planned_for: dict[str, str] = field(default_factory=dict)   # unused index -> why emit planned it
    scanned: dict[str, int] = field(default_factory=dict)       # unused index -> scans the server counts (> 0)
    phases: list[PhaseNote] = field(default_factory=list)       # index phases not in place (rolled back, ...)
    baseline_elsewhere: str = ""    # with --measure: the baselines were timed on another kind of server

    @property
    def ok(self) -> bool:
        return self.rolled_back or all(t.ok for t in self.targets)     # a rollback is no failure (n38)

    @property
    def rolled_back(self) -> bool:
        return rolled_back_whole(self.phases, [s.real_bytes for s in self.sizes], [t.used for t in self.targets])

    @property
    def failures(self) -> list[TargetResult]:
        return [t for t in self.targets if not t.ok]

    @property
    def measured(self) -> int:
        """Targets timed now."""
        return sum(t.ms is not None for t in self.targets)

    @property
    def not_compared(self) -> int:
        """Targets whose baselines are not comparable with now (their values edited since emit)."""
        return sum(bool(t.not_compared) for t in self.targets)

    @property
    def compared(self) -> list[TargetResult]:
        """Targets with both a predicted (else planner) gain and a measured one."""
        return [t for t in self.targets if t.agrees is not None]

    @property
    def agree(self) -> int:
        """Of ``compared``, those whose predicted and measured gains are within DISAGREEMENT."""
        return sum(bool(t.agrees) for t in self.compared)

    def agreement(self) -> str:
        """``predicted and measured gains agree within 2x for 5 of 6``: the rule said where it is decided."""
        return (f"predicted and measured gains agree within {DISAGREEMENT:g}x for {self.agree} of "
                f"{len(self.compared)}")

    def as_dict(self) -> dict[str, Any]:
        return {"migration_id": self.migration_id, "ok": self.ok, "rolled_back": self.rolled_back,
                "unused_indexes": self.unused_indexes, "planned_for": self.planned_for, "scanned": self.scanned,
                "nil_gain_indexes": self.nil_gain_indexes,
                "stale_statistics": self.stale_statistics, "sizes": [asdict(s) for s in self.sizes],
                "measured": self.measured, "compared": len(self.compared), "agree": self.agree,
                "not_compared": self.not_compared,
                "agree_within": DISAGREEMENT, "phases_not_in_place": [asdict(p) for p in self.phases],
                "baseline_elsewhere": self.baseline_elsewhere,
                "targets": [t.as_dict() for t in self.targets]}


def verify(conn: psycopg.Connection[Any], directory: Path, *, tolerance: float = 0.10,
           analyze: bool = False, timeout_ms: int = 30_000, trust_functions: bool = False,
           time_tolerance: float = 0.25) -> Verification:
    m = load(directory, check=False)
    with catalog_sql.uncompiled(conn):      # the catalog's reads; the targets are planned and timed as the app's
        out = Verification(m.id, phases=not_in_place(conn, m, directory))
        built = built_indexes(conn, m)
    seen: set[str] = set()
    roles = RoleCheck(conn)
    for t, name, unlike in zip(m.targets, target_labels(m.targets), not_comparable(m, directory), strict=True):
        why = roles.why_not(t.role)
        result = replace(TargetResult.of(t, unlike), verdict=Verdict.UNCHECKED, problem=why) if why else check_target(
            conn, t, built, tolerance=tolerance, analyze=analyze, timeout_ms=timeout_ms,
            trust_functions=trust_functions, time_tolerance=time_tolerance, not_compared=unlike)
        seen |= set(result.used)
        if not result.ok and (undone := undone_by_rollback(out.phases, result.expected, result.used)):
            result.verdict, result.problem = Verdict.ROLLED_BACK, undone
        out.targets.append(replace(result, name=name))
    indexes = [ix for p in m.phases for ix in p.indexes]
    out.unused_indexes = sorted({ix.name for ix in indexes} - seen - {n for p in out.phases for n in p.missing})
    out.planned_for = {ix.name: ix.reason for ix in indexes if ix.name in out.unused_indexes and ix.reason}
    unused = [ix for ix in indexes if ix.name in out.unused_indexes]
    with catalog_sql.uncompiled(conn):
        counted = conn.execute(catalog_sql.load("index_scans"), {"schemas": [ix.schema for ix in unused],
                                                                 "names": [ix.name for ix in unused]}).fetchall()
        out.stale_statistics = analyzed_before_build(conn, m)
        real = {k: f.bytes for k, f in ObjectStates(conn).indexes([(ix.schema, ix.name) for ix in indexes]).items()}
    out.scanned = {name: int(n) for _schema, name, n in counted if n}
    out.nil_gain_indexes = nil_gain_indexes(out.targets)
    out.sizes = [IndexSize(ix.name, ix.forecast_bytes, real.get((ix.schema, ix.name))) for ix in indexes]
    if analyze:
        out.baseline_elsewhere = elsewhere(conn, m.targets, [t.measured_ratio is not None for t in out.targets])
    return out


def verify_query(conn: psycopg.Connection[Any], query: str, expect: list[str], *, analyze: bool = False,
                 timeout_ms: int = 30_000, trust_functions: bool = False) -> Verification:
    """The ad hoc form: does this one statement use one of these indexes?"""
    target = Target(queryid=None, query=query, calls=1, baseline_cost=None, expected_indexes=list(expect))
    expected = Built({n: n for n in expect}, "the expected indexes")     # there is no migration (c26)
    result = check_target(conn, target, expected, tolerance=0.0, analyze=analyze, timeout_ms=timeout_ms,
                          trust_functions=trust_functions)
    return Verification("ad hoc", [result])


def check_target(conn: psycopg.Connection[Any], t: Target, built: Built, *, tolerance: float, analyze: bool,
                 timeout_ms: int, trust_functions: bool = False, time_tolerance: float = 0.25,
                 not_compared: str = "") -> TargetResult:
    """Plan ``t`` now and judge it by its plan and cost (and, with ``analyze``, by its time); ``not_compared``: why
    its baseline is not compared with now (then only its plan is judged)."""
    result = TargetResult.of(t, not_compared)
    try:
        planned = plan_target(conn, t, timeout_ms=timeout_ms)
    except (psycopg.Error, ValueError) as exc:
        if lost(conn):
            raise   # the connection is gone: not a property of this statement
        result.fail(f"cannot plan: {server_message(exc)}")
        return result
    judge(result, t, planned, built, tolerance)
    if analyze:
        time_now(conn, result, t, trust_functions=trust_functions, timeout_ms=timeout_ms,
                 time_tolerance=time_tolerance)
    return result


def judge(result: TargetResult, t: Target, planned: Planned, built: Built, tolerance: float) -> None:
    """Pass or fail ``result`` by its plans now: the indexes they use (any counted scenario's), their cost."""
    plan, used = planned.main, planned.indexes | planned.main.indexes
    result.cost, result.used, result.generic_plan = planned.cost, built.used(used), planned.runs_generic
    result.plan_indexes, result.scans_now = sorted(used), scans(plan.plan)
    before = None if result.not_compared else t.baseline_cost      # planned for other values: no comparison
    moved = estimates.moved(t.baseline_plan, plan.plan, tolerance) if t.baseline_plan and before is not None else []
    result.estimates_moved = [str(m) for m in moved]
    if before is not None and planned.cost > before * (1 + tolerance):
        rise = f"cost {planned.cost:,.1f} > baseline {before:,.1f} (+{tolerance:.0%} allowed)"
        # An added index cannot raise the planner's cost on the same statistics (it picks the cheapest path);
        # with the row estimates moved, the baseline is out of date, but only by as much as the rows grew
        # (r8's M1: 12 -> 14 rows excused a cost 4.8x the baseline).
        grown = max((m.now / max(m.before, 1.0) for m in moved), default=1.0)
        if moved and not t.dropped_indexes and planned.cost <= before * grown * (1 + tolerance):
            result.add_note(f"{rise}, but the row estimates moved since emit ({moved_text(result)}): "
                            "the statistics changed, not the plan's choice")
        elif moved and not t.dropped_indexes:
            result.fail(f"regression: {rise}; the row estimates moved since emit ({moved_text(result)}), "
                        f"which explains {grown:.2f}x at most")
        else:
            result.fail(f"regression: {rise}")
    if t.dropped_indexes:
        # A statement that used an index the migration drops: it passes when it got no costlier.
        result.add_note(f"used {', '.join(t.dropped_indexes)} (dropped) at emit")
    elif t.expected_indexes and not result.used:
        if served_as_well(result, tolerance):
            by = ", ".join(result.plan_indexes) or "its plan"
            result.add_note(f"served as well as predicted by {by}, without this migration's indexes")
        else:
            result.fail(not_served(result, built.whose))
    elif result.used and not set(result.used) & set(t.expected_indexes):
        result.add_note(f"uses {', '.join(result.used)} (foreseen at emit: {', '.join(t.expected_indexes)})")


def served_as_well(result: TargetResult, tolerance: float) -> bool:
    """Another index (or plan) gives the cost predicted with this migration's, and it is a real cut."""
    if result.cost is None or result.predicted_cost is None or result.baseline_cost is None or result.not_compared:
        return False
    return result.cost <= result.predicted_cost * (1 + tolerance) and result.cost < result.baseline_cost


def not_served(result: TargetResult, whose: str = "this migration's indexes") -> str:
    """Why a target that should use ``whose`` fails (a migration's indexes, or --query's expected ones): what its
    plan does instead."""
    plan = one_line(", ".join(result.scans_now), 120) if result.scans_now else "no scan"
    why = f"expected index not used: {', '.join(result.expected)}; its plan uses none of {whose} ({plan})"
    if result.cost is not None and result.predicted_cost is not None and not result.not_compared:
        why += f"; cost {result.cost:,.1f} where {result.predicted_cost:,.1f} was predicted"
    if result.estimates_moved:
        why += f"; the row estimates moved since emit ({moved_text(result)})"
    return why


def moved_text(result: TargetResult) -> str:
    more = len(result.estimates_moved) - 3
    return ", ".join(result.estimates_moved[:3]) + (f" and {more} more" if more > 0 else "")


def time_now(conn: psycopg.Connection[Any], result: TargetResult, t: Target, *, trust_functions: bool,
             timeout_ms: int, time_tolerance: float) -> None:
    """Time ``t`` now and compare: a slowdown fails, no gain is ``nil-gain``, a surprise is explained."""
    (timed, why), result.pace_ms_now = pace_now(conn, t, lambda: time_or_why(conn, t, trust_functions=trust_functions,
                                                                         timeout_ms=timeout_ms))
    if timed is None:
        assert why is not None
        result.measurement, result.unmeasured = why.kind, why.note
        result.add_note(why.note)
        return
    how, before = "timed once", None if result.not_compared else t.baseline_ms     # timed for other values
    if slower(before, timed.ms, time_tolerance):
        # A slowdown fails the deploy: timed once more before it is believed (u8: at load 7.5 two statements
        # read 25-30% slower straight after apply, and 4x faster on the next run).
        again, _ = time_or_why(conn, t, trust_functions=trust_functions, timeout_ms=timeout_ms)
        how = "timed twice, the faster kept" if again is not None else "timed once (the second timing failed)"
        if again is not None and again.ms < timed.ms:
            timed = again
    result.measurement = Measurement.MEASURED
    result.ms, result.measured_how, result.read_blocks = timed.ms, timed.describe(), timed.read_blocks
    if before is not None and slower(before, timed.ms, time_tolerance):
        result.fail(f"measured slowdown: {before:,.2f} ms at emit -> {timed.ms:,.2f} ms now, {how} "
                    f"(more than +{time_tolerance:.0%})")
    elif nil_gain(result, t):
        if result.verdict == Verdict.OK:
            result.verdict = Verdict.NIL_GAIN
        result.add_note(f"measured gain nil: {t.baseline_ms:,.2f} ms at emit -> {timed.ms:,.2f} ms now")
    result.disagreement = diagnose(result, timed)


def nil_gain(result: TargetResult, t: Target) -> bool:
    """A statement promised a speed-up (it should use a new index) that its time does not show."""
    if t.dropped_indexes or not t.expected_indexes or result.measured_ratio is None:
        return False
    return result.measured_ratio < NIL_GAIN


def diagnose(result: TargetResult, timed: Timed | None = None) -> str:
    """When the predicted and measured gains differ by more than DISAGREEMENT: the likely causes, with numbers."""
    predicted, measured = result.compared_ratio, result.measured_ratio
    if result.agrees is not False or not predicted or not measured:
        return ""
    kind = "planner"
    if result.predicted_ratio:
        kind = "predicted" if predicted == result.predicted_ratio else \
            "predicted time" if predicted == result.predicted_time_ratio else "predicted (warm)"
    causes = []
    if result.predicted_ratio and result.ratio and _off(result.predicted_ratio, result.ratio) > DISAGREEMENT:
        causes.append(f"plan change: the built indexes cut the planner cost {result.ratio:,.1f}x, "
                      f"not the {result.predicted_ratio:,.1f}x predicted")
    planned, sampled = result.heap_pages_planned, result.heap_pages_sampled
    if planned is not None and sampled is not None and sampled > PAGE_COUNT_OFF * planned:
        causes.append(f"page count: the planner counts {planned:,.0f} heap pages for the rows the index scan "
                      f"visits, a sample at emit found {sampled:,.0f}")
    before, now = result.baseline_read_blocks, result.read_blocks
    # With a predicted time the baseline's time, disk reads and all, is in both cuts: its cache state explains nothing.
    if kind != "predicted time" and before is not None and now is not None and bool(before) != bool(now):
        causes.append(f"cache state: the baseline run read {before:,} blocks from disk, this one {now:,}")
    elif result.warm and measured > DISAGREEMENT * (result.ratio or predicted) \
            and kind not in ("predicted (warm)", "predicted time"):
        # The direction a warm cache explains: the planner charges an index's page reads as random disk reads.
        causes.append("cache state: both runs found every page in shared buffers, where the planner still "
                      "prices an index's page reads as random disk reads (random_page_cost), so its cut "
                      "understates the time cut")
    if result.generic_plan:
        causes.append("values: the server runs this statement's generic plan (no dearer than its custom "
                      "plans), which no value can be timed with; the time is of the custom plans")
    elif timed is not None and timed.share < 0.9:
        causes.append(f"values: the time covers {timed.timed} of the {timed.custom} value scenarios the cost "
                      f"weighs ({timed.share:.0%} of their weight)")
    if not causes and kind == "predicted time" and max(result.predicted_ms_now or 0.0, result.ms or 0.0) < NOISE_MS:
        causes.append(f"timing noise: predicted and measured both under {NOISE_MS:g} ms, where one plan's time "
                      "varies 2-3x between runs under load")
    elif not causes and kind == "predicted time":
        causes.append("cost model: the time now is not the one the index scan timed at emit predicts")
    elif not causes:
        causes.append("cost model: the planner's cost cut is not the time cut")
    return f"{kind} {predicted:,.1f}x, measured {measured:,.1f}x: " + "; ".join(causes) + _pace(result)


def _pace(result: TargetResult) -> str:
    """`` (3.10 µs per cost unit before, 1.25 now)``: how the time per planner cost unit moved, the evidence a
    cost-model cause rests on (now: the cost of the plan that ran now; warm costs when compared warm); with a
    predicted time, `` (0.031 ms predicted now)``."""
    if predicted_time(result) and result.predicted_ms_now is not None and result.ms is not None:
        moved = "" if result.predicted_ms_now == result.predicted_ms else \
            f", its table's reference scan {result.pace_ms:,.3f} ms at emit, {result.pace_ms_now:,.3f} now"
        return f" ({result.predicted_ms_now:,.3f} ms predicted now{moved}, {result.ms:,.3f} measured)"
    warm = bool(result.warm and result.warm_predicted_ratio)
    before = result.warm_baseline_cost if warm else result.baseline_cost
    after = result.warm_predicted_cost if warm else (result.cost or result.predicted_cost)   # the time now's plan
    if not before or not after or result.baseline_ms is None or result.ms is None:
        return ""
    return (f" ({1000 * result.baseline_ms / before:,.2f} µs per cost unit before, "
            f"{1000 * result.ms / after:,.2f} now)")


def predicted_time(result: TargetResult) -> bool:
    """Is the time cut compared with the predicted time cut (baseline_pace)?"""
    return bool(result.predicted_time_ratio) and result.compared_ratio == result.predicted_time_ratio


def _off(a: float, b: float) -> float:
    return max(a / b, b / a)


def nil_gain_indexes(results: list[TargetResult]) -> list[str]:
    """Indexes whose every timed statement showed no gain (and at least one was timed)."""
    timed: dict[str, list[TargetResult]] = {}
    for r in results:
        if r.ms is not None and r.baseline_ms is not None:
            for name in r.used:
                timed.setdefault(name, []).append(r)
    return sorted(n for n, rs in timed.items() if all(r.verdict == Verdict.NIL_GAIN for r in rs))


def slower(before_ms: float | None, now_ms: float | None, tolerance: float) -> bool:
    """Did a statement get measurably slower: beyond the tolerance, and by more than noise (1 ms)?"""
    if before_ms is None or now_ms is None:
        return False
    return now_ms > before_ms * (1 + tolerance) and now_ms - before_ms > TIME_FLOOR_MS
