"""The advice model: what ``advise`` returns, the types the other rooms read (plan, prisma, the CLI).

Each index proposal with its evidence, each analyzed statement with its costs
and values, what was skipped or refused and why, and the selection's curve.
``Advice.as_dict`` is suggest's JSON (docs/suggest-json.md, checked by
tests/test_docs.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

from ..capture import Statement
from ..ddl import IndexMethod
from ..explain import PlanContext
from .calibration import Pricing
from .candidates import Candidate, Origin
from .extended_stats import StatisticsProposal
from .extensions import ExtensionNeed
from .scenarios import Coverage, ParamValue, ValueSource
from .selection import MIN_GAIN, StepKind
from .trial import CostMethod
from .wide_keys import WideKey


class Method(StrEnum):
    """How candidates were judged: by the planner on hypothetical indexes, or by their shape alone."""

    HYPOPG = "hypopg"
    HEURISTIC = "heuristic"


class SkipKind(StrEnum):
    """Why a statement was not analyzed; the ``reason`` text says it for a person."""

    UNPARSABLE = "unparsable"
    TRUNCATED = "truncated"
    UTILITY = "utility"
    EXCLUDED = "excluded"
    UNKNOWN_TABLE = "unknown-table"
    FOREIGN_TABLE = "foreign-table"     # a foreign table (postgres_fdw...): no index can be built on it
    NO_FILTER = "no-filter"
    CANNOT_PLAN = "cannot-plan"
    TEMPORARY = "temporary-table"
    IN_FUNCTION = "in-function"         # run inside a function or trigger: it names the function's variables




# Skipped statements the workload ran that no plan costed: the advice says nothing of them.
UNCOSTED = frozenset({SkipKind.UNPARSABLE, SkipKind.TRUNCATED, SkipKind.UNKNOWN_TABLE, SkipKind.FOREIGN_TABLE,
                      SkipKind.CANNOT_PLAN, SkipKind.IN_FUNCTION})
UNCOSTED_SHARE = 0.25   # from this share of the workload's time on, the headline says the verdict leaves it out


# A statement an index serves is the workload's own Statement, passed by reference (not re-typed).
QueryRef = Statement

@dataclass
class IndexSuggestion:
    schema: str
    table: str
    name: str
    columns: list[str]
    descending: list[bool]
    ddl: str
    rollback: str
    analyze: str
    reason: str
    expressions: list[str | None] = field(default_factory=list)   # per key: expression text, or None
    where: str | None = None
    include: list[str] = field(default_factory=list)
    origin: Origin = Origin.WORKLOAD
    queries: list[QueryRef] = field(default_factory=list)
    values: list[dict[str, str | None]] = field(default_factory=list)   # per query: the values it was planned with
    values_source: list[ValueSource] = field(default_factory=list)   # per query: its main scenario's source
    cost_before: float | None = None      # sum of calls x plan cost of the statements it serves
    cost_after: float | None = None
    maintenance_cost: float | None = None  # writes on the table x WRITE_COST
    estimated_bytes: int | None = None     # HypoPG's estimate (no deduplication)
    forecast_bytes: int | None = None      # pgtune's forecast of the built size (analyze.sizing)
    hot: bool = True                       # a foreign key's index: False while no row references the parent
    redundant: list[str] = field(default_factory=list)   # existing indexes it serves everything of
    method: IndexMethod = IndexMethod.BTREE              # the access method (docs/indexes/)
    opclasses: list[str | None] = field(default_factory=list)   # per key: its operator class (None: default)
    extension: str | None = None           # the extension its operator class comes from (pg_trgm)
    costed_by: CostMethod = CostMethod.HYPOPG   # what produced cost_after: HypoPG, or a trial build
    statistics_hidden: bool = False        # row security hides the table's pg_stats from pgtune's role: its size
                                           # and costs come from column types alone (r11 F15)
    partitioned: bool = False              # the table is partitioned: PostgreSQL refuses ddl and rollback as they
                                           # stand; --emit builds it partition by partition (p20)

@dataclass
class CurvePoint:
    """One step of the selection: the set's size and the workload's cost once the step is taken."""

    step: int
    action: StepKind            # NONE (the start), ADD, WIDEN, REPLACE
    index: str | None           # the index the step builds
    replaces: str | None        # for widen: the narrower index it replaces; for replace: those, comma-separated
    forecast_bytes: int         # the whole set, forecast
    hypopg_bytes: int           # the whole set, as HypoPG estimates it
    cost: float                 # sum over statements of calls x planned cost
    chosen: bool                # within the budget (--max-index-mb, --max-indexes)
    indexes: list[str] = field(default_factory=list)   # the set a budget of this size emits (analyze.curve)
    drops: list[str] = field(default_factory=list)     # of the point before's set, gone and not in ``replaces``

@dataclass(slots=True)     # one per statement of the workload
class AnalyzedStatement:
    queryid: int | None
    query: str
    calls: int
    mean_ms: float
    cost_before: float | None = None
    cost_after: float | None = None
    indexes: list[str] = field(default_factory=list)   # suggested indexes its new plan uses
    values: dict[str, str | None] = field(default_factory=dict)  # "$1" -> the value it was planned with
    values_source: ValueSource = ValueSource.GENERIC   # the main scenario's source (see analyze.values)
    scenarios: list[dict[str, Any]] = field(default_factory=list)  # values, source, weight of each scenario
    params: list[ParamValue] = field(default_factory=list)   # per $n: value and where it came from
    generic_params: list[str] = field(default_factory=list)  # $n without a value: planned generic
    qualstats_coverage: Coverage | None = None   # the occurrences of its quals pg_qualstats' constants stand for
    # $n -> the constant the application wrote there (pg_qualstats' example of the statement as sent): a prepared
    # statement's generic plan has it as written, not as a parameter (analyze.generic_plans)
    literals: dict[str, str] = field(default_factory=dict)
    note: str = ""                 # e.g. why no index helps a statement that is much of the workload's cost

    @property
    def credited(self) -> bool:
        """Does its cut credit the indexes it names (they serve it: the migration's targets, verify times it)? A cut
        under MIN_GAIN is predicted all the same (costing.settle); without costs (heuristic mode) they serve it."""
        before, after = self.cost_before, self.cost_after
        return before is None or after is None or after < before * (1 - MIN_GAIN)

    @property
    def partly_generic(self) -> bool:
        """Planned with a $n generic: its cost is not the cost with the values it runs with."""
        return bool(self.generic_params)
    role: str | None = None                            # the role that ran it (pg_stat_statements.userid)
    search_path: list[str] = field(default_factory=list)   # the schemas its names were resolved in
    planned_as: str | None = None                      # SET LOCAL ROLE it was planned under (row security)
    settings: dict[str, str] = field(default_factory=dict)  # what its row security policies read, as planned
    notes: list[str] = field(default_factory=list)     # where pgtune could not plan it as its role would run it
    userid: int | None = None      # the oid of the role that ran it (pg_stat_statements.userid); None: unknown

    @property
    def key(self) -> tuple[int | None, str, int | None]:
        """What tells it from another statement of the same text: a schema per tenant's roles each run the text in
        their own schema, and from PostgreSQL 18 on pg_stat_statements gives them one queryid (it jumbles a
        table by its name, not its OID): the role that ran it tells them apart."""
        return self.queryid, self.query, self.userid

    @property
    def context(self) -> PlanContext:
        """The session it is planned in (see analyze.sessions)."""
        return PlanContext(search_path=tuple(self.search_path) if self.role is not None else None,
                           role=self.planned_as, settings=tuple(self.settings.items()))

    @classmethod
    def of(cls, st: Statement) -> AnalyzedStatement:
        return cls(queryid=st.queryid, query=st.query, calls=st.calls, mean_ms=st.mean_ms, userid=st.userid)

@dataclass
class Skipped:
    queryid: int | None
    query: str
    reason: str
    kind: SkipKind = SkipKind.UNPARSABLE
    total_ms: float = 0.0       # its total execution time in the window (what the advice leaves out of sight)
    userid: int | None = None   # the role that ran it: two roles' same text share a queryid (AnalyzedStatement.key)

    @property
    def key(self) -> tuple[int | None, str, int | None]:
        return self.queryid, self.query, self.userid

    @property
    def rank(self) -> tuple[int, float]:
        """Listing order (u2's R3): what could not be planned first, then the rest no plan costed, then what
        needs no index; each by total time, the costliest first."""
        first = 0 if self.kind == SkipKind.CANNOT_PLAN else 1 if self.kind in UNCOSTED else 2
        return first, -self.total_ms

@dataclass
class Rejected:
    """A candidate index the server would not create (e.g. an aggregate as a key), and why."""

    schema: str
    table: str
    keys: list[str]
    reason: str
    queries: list[QueryRef] = field(default_factory=list)

@dataclass
class Advice:
    method: Method
    indexes: list[IndexSuggestion] = field(default_factory=list)
    statements: list[AnalyzedStatement] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    server_version: str = ""
    curve: list[CurvePoint] = field(default_factory=list)
    what_if_calls: int = 0
    left_out: list[str] = field(default_factory=list)   # steps of the curve the rest of the set made useless
    statistics: list[StatisticsProposal] = field(default_factory=list)   # CREATE STATISTICS (extended_stats)
    extensions: list[ExtensionNeed] = field(default_factory=list)        # what the indexes' operator classes need
    workload_ms: float = 0.0        # Σ execution time of the statements read (analyzed and skipped)
    uncosted_ms: float = 0.0        # … of those no plan costed: unknown table, cannot plan, unreadable
    uncosted_statements: int = 0
    # Statements a withdrawal left with other proposals: their cost_after counted the withdrawn one too, and
    # analyze.replan plans them again with the rest (r8's H1: 40 kept where the rest gave 783.75).
    replan: list[AnalyzedStatement] = field(default_factory=list)
    # How the selection priced a hypothetical b-tree (analyze.calibration), and each proposal's candidate by (schema,
    # name), as a schema per tenant has the same name in each (p15): analyze.replan prices its plans the same way,
    # so a plan the selection gave no credit gets none (r11 F9).
    pricing: Pricing | None = field(default=None, repr=False, compare=False)
    sources: dict[tuple[str, str], Candidate] = field(default_factory=dict, repr=False, compare=False)
    # Columns too wide for a b-tree (analyze.wide_keys): their equality lookups get a hash index costed (beyond).
    wide_keys: list[WideKey] = field(default_factory=list)

    def withdraw(self, name: str, why: str, schema: str | None = None) -> None:
        """Take proposal ``name`` (of ``schema``: a schema per tenant has the same name in each, p15) out, with the
        hint ``why``: its statements keep the cost they have without it (``cost_after`` back to ``cost_before``
        where it was their only index, else planned again: ``replan``), so the headline never counts it."""
        gone = [s for s in self.indexes if s.name == name and schema in (None, s.schema)]
        self.indexes = [s for s in self.indexes if all(s is not g for g in gone)]
        self.hints.append(why)
        # A plan names an index without its schema: where the same name stays in another schema, a statement
        # keeps it only when the one that stays serves it. Told by queryid too: a tenant's role runs the same
        # unqualified text in its own schema (r18: by text, t_old's withdrawal took t_new's 40x cut), with one
        # queryid for all from PostgreSQL 18 on, so by its role as well (r19); and a cut under MIN_GAIN, named but
        # in no proposal's queries, goes with the withdrawn one (it may be either's).
        stays = {(q.queryid, q.query, q.userid) for s in self.indexes if s.name == name for q in s.queries}
        for st in self.statements:
            if name in st.indexes and (not stays or st.key not in stays):
                st.indexes.remove(name)
                if not st.indexes:
                    st.cost_after = st.cost_before
                elif all(st is not other for other in self.replan):
                    self.replan.append(st)

    def restate(self) -> None:
        """The chosen curve point (the summary line's "chosen" set) becomes the b-tree set emitted.

        The selection's figures are those of the set before the reviews after it
        withdrew a proposal (generic plans, HOT, a covering twin, a key the
        others determine) or took a key out of one (q9): the line said 3
        indexes and 40% where 2 were emitted. Sized by the proposals' own
        forecasts and costed by the statements' plans as they are now.
        """
        chosen = [p for p in self.curve if p.chosen]
        if not chosen:
            return
        point = chosen[-1]
        kept = [s for s in self.indexes if s.method == IndexMethod.BTREE]
        names = sorted(s.name for s in kept)
        if names == point.indexes:
            return
        point.indexes = names
        point.forecast_bytes = sum(s.forecast_bytes or 0 for s in kept)
        point.hypopg_bytes = sum(s.estimated_bytes or 0 for s in kept)
        point.cost = self.curve[0].cost - sum(st.calls * (st.cost_before - st.cost_after) for st in self.statements
                                              if st.cost_before is not None and st.cost_after is not None)

    @property
    def partly_costed(self) -> bool:
        """Statements no plan costed hold UNCOSTED_SHARE or more of the workload: no verdict on the whole."""
        return self.uncosted_share >= UNCOSTED_SHARE

    @property
    def uncosted_of(self) -> str:
        """What ``uncosted_share`` is a share of, for a person: with no time measured (a --queries file) it counts
        statements, and saying "time" there would name a figure nothing measured."""
        return "of the workload's time" if self.workload_ms > 0 else "of the statements (no times: a --queries file)"

    @property
    def uncosted_share(self) -> float:
        """The share of the workload's time (of its statements, when no time was measured) nothing costed."""
        if self.workload_ms > 0:
            return min(1.0, self.uncosted_ms / self.workload_ms)
        total = len(self.statements) + len([s for s in self.skipped if s.kind in UNCOSTED])
        return self.uncosted_statements / total if total else 0.0

    @property
    def knee(self) -> CurvePoint | None:
        """The curve's knee: the step between start and end farthest above the straight line joining them
        (Kneedle); None when no step lies above it (the start, no index at all, is never a knee)."""
        if len(self.curve) < 3:
            return None
        first, last = self.curve[0], self.curve[-1]
        span_x = (last.forecast_bytes - first.forecast_bytes) or 1
        span_y = (first.cost - last.cost) or 1.0

        def above(p: CurvePoint) -> float:
            return (first.cost - p.cost) / span_y - (p.forecast_bytes - first.forecast_bytes) / span_x

        best = max(self.curve[1:-1], key=above)
        return best if above(best) > 0 else None

    @property
    def workload_cost_before(self) -> float | None:
        return _total(self.statements, before=True)

    @property
    def workload_cost_after(self) -> float | None:
        return _total(self.statements, before=False)

    @property
    def generic_statements(self) -> list[AnalyzedStatement]:
        """The statements costed with a $n still generic: counted apart from the headline."""
        return [s for s in self.statements if s.partly_generic]

    def valued_cost(self, *, before: bool) -> float | None:
        """The headline: Σ calls × cost of the statements planned with a value for every $n."""
        return _total([s for s in self.statements if not s.partly_generic], before=before)

    def generic_cost(self, *, before: bool) -> float | None:
        """The same for the statements planned with a $n still generic: counted apart."""
        return _total(self.generic_statements, before=before)

    def as_dict(self) -> dict[str, Any]:
        # Work in progress of the analysis (analyze.replan) and what it reads: not the advice (nor copied for it).
        out = asdict(replace(self, replan=[], pricing=None, sources={}, wide_keys=[]))
        for gone in ("replan", "pricing", "sources", "wide_keys"):
            del out[gone]
        out["workload_cost_before"] = self.workload_cost_before
        out["workload_cost_after"] = self.workload_cost_after
        out["valued_cost_before"] = self.valued_cost(before=True)
        out["valued_cost_after"] = self.valued_cost(before=False)
        out["generic_cost_before"] = self.generic_cost(before=True)
        out["generic_cost_after"] = self.generic_cost(before=False)
        out["generic_statements"] = len(self.generic_statements)
        out["uncosted_share"] = self.uncosted_share
        out["partly_costed"] = self.partly_costed
        knee = self.knee
        out["knee"] = knee.step if knee is not None else None
        return out


def _total(statements: list[AnalyzedStatement], *, before: bool) -> float | None:
    """Σ calls × cost over ``statements`` (before or after the new indexes); None when none was costed."""
    costs = [(s.cost_before if before else s.cost_after) for s in statements]
    found = [c * s.calls for c, s in zip(costs, statements, strict=True) if c is not None]
    return sum(found) if found else None
