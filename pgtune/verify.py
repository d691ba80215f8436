"""Verify: after deploy, re-plan every targeted statement and check the promise.

A target passes when its plan uses at least one of the indexes the migration
built for it (Index Scan, Index Only Scan or Bitmap Index Scan on it) and its
cost is not above the baseline by more than the tolerance. A statement that
used an index a health migration drops passes when its cost did not rise
beyond the tolerance. Also reported:
planned indexes no target uses, and tables whose statistics are older than
their new indexes (the planner may not cost the index right until ANALYZE).

With ``analyze``, read-only statements are executed inside BEGIN READ ONLY
... ROLLBACK under a statement_timeout (parameterized ones with the values
they were planned with); anything that could write is only planned, never
run. A statement measured slower than at emit, beyond the time tolerance and
by more than a millisecond, fails like a cost regression.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import psycopg
from psycopg.rows import dict_row

from . import catalog_sql
from ._text import error_text, one_line
from .apply import IndexSize
from .apply.catalog import ObjectStates
from .errors import InputError
from .explain import explain, scans
from .history import History
from .history import exists as history_exists
from .plan import Migration, Target, load
from .readonly import measure
from .script import index_target

DISAGREEMENT = 2.0   # flag when measured and predicted speed-ups differ by more than this factor
TIME_FLOOR_MS = 1.0  # a measured slowdown smaller than this is noise, whatever its ratio


@dataclass
class TargetResult:
    queryid: int | None
    query: str
    expected: list[str]
    used: list[str]
    baseline_cost: float | None
    cost: float | None
    ok: bool
    problem: str = ""
    baseline_ms: float | None = None
    ms: float | None = None
    note: str = ""
    scans_before: list[str] = field(default_factory=list)   # from the plan captured at emit
    scans_now: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, t: Target, *, used: list[str], cost: float | None, ok: bool, problem: str = "",
           scans_now: list[str] | None = None) -> TargetResult:
        """The result for target ``t``: its identity and baselines, then what verify found now."""
        return cls(queryid=t.queryid, query=t.query, expected=t.expected_indexes, used=used,
                   baseline_cost=t.baseline_cost, cost=cost, ok=ok, problem=problem, baseline_ms=t.baseline_ms,
                   scans_before=scans(t.baseline_plan) if t.baseline_plan else [], scans_now=scans_now or [])

    @property
    def ratio(self) -> float | None:
        """Predicted speed-up: baseline cost / cost now."""
        if self.baseline_cost and self.cost:
            return self.baseline_cost / self.cost
        return None

    @property
    def measured_ratio(self) -> float | None:
        if self.baseline_ms and self.ms:
            return self.baseline_ms / self.ms
        return None


@dataclass
class Verification:
    migration_id: str
    targets: list[TargetResult] = field(default_factory=list)
    unused_indexes: list[str] = field(default_factory=list)
    stale_statistics: list[str] = field(default_factory=list)
    sizes: list[IndexSize] = field(default_factory=list)    # forecast at emit, real now

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.targets)


def verify(conn: psycopg.Connection[Any], directory: Path, *, tolerance: float = 0.10,
           analyze: bool = False, timeout_ms: int = 30_000, trust_functions: bool = False,
           time_tolerance: float = 0.25) -> Verification:
    m = load(directory, check=False)
    out = Verification(m.id)
    planned = {ix.name for p in m.phases for ix in p.indexes}
    seen: set[str] = set()
    for t in m.targets:
        result, used = check_target(conn, t, tolerance=tolerance, analyze=analyze, timeout_ms=timeout_ms,
                                    trust_functions=trust_functions, time_tolerance=time_tolerance)
        seen |= used
        out.targets.append(result)
    out.unused_indexes = sorted(planned - seen)
    out.stale_statistics = stale_statistics(conn, m)
    indexes = [ix for p in m.phases for ix in p.indexes]
    found = ObjectStates(conn).indexes([(ix.schema, ix.name) for ix in indexes])
    out.sizes = [IndexSize(ix.name, ix.forecast_bytes,
                           found[(ix.schema, ix.name)].bytes if (ix.schema, ix.name) in found else None)
                 for ix in indexes]
    return out


def verify_query(conn: psycopg.Connection[Any], query: str, expect: list[str], *, analyze: bool = False,
                 timeout_ms: int = 30_000, trust_functions: bool = False) -> Verification:
    """The ad hoc form: does this one statement use one of these indexes?"""
    target = Target(queryid=None, query=query, calls=1, baseline_cost=None, expected_indexes=list(expect))
    result, _ = check_target(conn, target, tolerance=0.0, analyze=analyze, timeout_ms=timeout_ms,
                             trust_functions=trust_functions)
    return Verification("ad hoc", [result])


def check_target(conn: psycopg.Connection[Any], t: Target, *, tolerance: float, analyze: bool,
                 timeout_ms: int, trust_functions: bool = False,
                 time_tolerance: float = 0.25) -> tuple[TargetResult, set[str]]:
    try:
        plan = explain(conn, t.query, timeout_ms=timeout_ms, param_types=t.param_types, values=t.values)
    except (psycopg.Error, ValueError) as exc:
        if conn.broken or conn.closed:
            raise   # the connection is gone: not a property of this statement
        return TargetResult.of(t, used=[], cost=None, ok=False, problem=f"cannot plan: {error_text(exc)}"), set()
    used = sorted(plan.indexes & set(t.expected_indexes))
    problems = []
    if t.expected_indexes and not used:
        problems.append("expected index not used: " + ", ".join(t.expected_indexes))
    if t.baseline_cost is not None and plan.cost > t.baseline_cost * (1 + tolerance):
        problems.append(f"regression: cost {plan.cost:,.1f} > baseline {t.baseline_cost:,.1f}")
    result = TargetResult.of(t, used=used, cost=plan.cost, ok=not problems, problem="; ".join(problems),
                             scans_now=scans(plan.plan))
    if t.dropped_indexes:
        # A statement that used an index the migration drops: it passes when it got no costlier.
        result.note = f"used {', '.join(t.dropped_indexes)} (dropped) at emit"
    if analyze:
        try:
            result.ms, why = measure(conn, t.query, trust_functions=trust_functions, timeout_ms=timeout_ms,
                                     values=t.values)
        except psycopg.errors.QueryCanceled:
            result.ms, why = None, f"not measured: slower than statement_timeout ({timeout_ms} ms)"
        if why:
            result.note = why if why.startswith("not measured") else f"not executed: {why}"
        elif slower(t.baseline_ms, result.ms, time_tolerance):
            assert t.baseline_ms is not None and result.ms is not None
            result.ok = False
            result.problem = "; ".join(x for x in (result.problem, (
                f"measured slowdown: {t.baseline_ms:,.2f} ms at emit -> {result.ms:,.2f} ms now "
                f"(more than +{time_tolerance:.0%})")) if x)
        elif result.ratio and result.measured_ratio:
            off = max(result.ratio / result.measured_ratio, result.measured_ratio / result.ratio)
            if off > DISAGREEMENT:
                result.note = (f"prediction and measurement disagree: planner {result.ratio:.1f}x, "
                               f"measured {result.measured_ratio:.1f}x")
    return result, set(plan.indexes)


def slower(before_ms: float | None, now_ms: float | None, tolerance: float) -> bool:
    """Did a statement get measurably slower: beyond the tolerance, and by more than noise (1 ms)?"""
    if before_ms is None or now_ms is None:
        return False
    return now_ms > before_ms * (1 + tolerance) and now_ms - before_ms > TIME_FLOOR_MS


def stale_statistics(conn: psycopg.Connection[Any], m: Migration, schema: str = "pgtune") -> list[str]:
    """Tables last analyzed before pgtune built their newest index (from pgtune's history)."""
    if not history_exists(conn, schema):
        return []
    table_of = {ix.name: (ix.schema, ix.table) for p in m.phases for ix in p.indexes}
    built: dict[tuple[str, str], Any] = {}
    for statement, finished in History(conn, m.id, schema).built_indexes():
        target = index_target(statement)
        if target is not None and target[1] in table_of:
            key = table_of[target[1]]
            built[key] = max(finished, built.get(key, finished))
    if not built:
        return []
    keys = sorted(built)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(catalog_sql.load("table_analyze_times"),
                    {"schemas": [s for s, _ in keys], "tables": [t for _, t in keys]})
        analyzed = {(r["schema"], r["table"]): r["analyzed"] for r in cur.fetchall()}
    return [f"{s}.{t}" for s, t in keys if analyzed.get((s, t)) is None or analyzed[(s, t)] < built[(s, t)]]


def check_report_path(path: Path) -> None:
    """Refuse an unwritable report path before verify does its work, not after.

    The file is opened for appending (and removed again if it did not exist),
    which asks the file system itself rather than guessing from permissions.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"cannot write the JUnit report to {path}: it is a folder")
    existed = path.exists()
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise InputError(f"cannot write the JUnit report to {path}: {exc.strerror or exc}") from None
    if not existed:
        path.unlink(missing_ok=True)


def junit(result: Verification, path: Path) -> None:
    """Write a JUnit XML report: one testcase per targeted statement."""
    suite = ET.Element("testsuite", name=f"pgtune verify {result.migration_id}",
                       tests=str(len(result.targets)),
                       failures=str(sum(not t.ok for t in result.targets)))
    for t in result.targets:
        name = f"queryid {t.queryid}" if t.queryid is not None else one_line(t.query, 80)
        case = ET.SubElement(suite, "testcase", classname="pgtune.verify", name=name)
        if not t.ok:
            ET.SubElement(case, "failure", message=t.problem).text = t.query
        out = ET.SubElement(case, "system-out")
        out.text = (f"used: {', '.join(t.used) or '-'}; cost {t.baseline_cost} -> {t.cost}"
                    + (f"; {t.note}" if t.note else ""))
    try:
        ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
    except OSError as exc:
        raise InputError(f"cannot write the JUnit report to {path}: {exc.strerror or exc}") from None
