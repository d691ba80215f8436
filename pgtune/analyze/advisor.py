"""Selection: from candidates to the few indexes worth building, with their evidence.

With HypoPG the planner decides: every candidate is created hypothetically,
each statement is re-planned, and only candidates the planner actually picks
survive. Each survivor is credited with the cost it removes (calls x plan cost,
shared among the candidates a plan uses), charged for the writes it would
have to maintain, and ranked; ``max_indexes`` and ``max_index_mb`` cut the
list. Without HypoPG, pgtune says so (``method: heuristic``) and keeps the
candidates the shapes justify.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

import psycopg
from pglast import ast as pg_ast

from .. import ddl
from .._text import Progress, error_text
from ..capture import (
    Catalog,
    Statement,
    TableKey,
    WorkloadFilter,
    sample_row,
)
from ..connect import lost
from ..ddl import IndexMethod
from ..explain import PlanContext, explain_scenarios, prepare_text
from ..roles import Roles
from ..snapshot import QualConstant, QualShare, Snapshot, snapshot
from ..sqltext import ParseFailed, parse_one
from . import anchor, extended_stats, partitions, sessions, sizing, unhelped, whatif
from .bind import EQ, FUNC, JOIN, NULL, RANGE, Shape, bind
from .candidates import (
    FOREIGN_KEY,
    RARE_VALUE,
    WORKLOAD,
    Candidate,
    Origin,
    for_foreign_keys,
    from_shape,
    made_redundant,
    merge,
    serves,
    serves_index,
)
from .extended_stats import StatisticsProposal
from .extensions import ExtensionNeed
from .scenarios import Scenario, ValueSource, weighted_cost
from .selection import Greedy, Ident, Selection, SizeBasis, ident
from .trial import CostMethod
from .values import ParamValue, observed, valued
from .workload import single_columns, widen_columns, workload_of


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
    NO_FILTER = "no-filter"
    CANNOT_PLAN = "cannot-plan"
    TEMPORARY = "temporary-table"


HEURISTIC = Method.HEURISTIC
HYPOPG = Method.HYPOPG
DOMINANT = 0.8     # a constant in at least this share of a qual's executions counts as "the" value
MIN_GAIN = 0.10    # a plan must get at least this much cheaper to credit the index
WRITE_COST = 2.0   # planner cost units one written row costs each index (a descent and a leaf write)
SAMPLE_ROWS = 100_000   # sample the distinct keys of multi-column and expression indexes from this many rows


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
    values_source: list[str] = field(default_factory=list)       # per query: qualstats, stats or generic
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


@dataclass
class CurvePoint:
    """One step of the selection: the set's size and the workload's cost once the step is taken."""

    step: int
    action: str                 # none (the start), add, widen
    index: str | None           # the index the step builds
    replaces: str | None        # for widen: the narrower index it replaces
    forecast_bytes: int         # the whole set, forecast
    hypopg_bytes: int           # the whole set, as HypoPG estimates it
    cost: float                 # sum over statements of calls x planned cost
    chosen: bool                # within the budget (--max-index-mb, --max-indexes)


@dataclass
class AnalyzedStatement:
    queryid: int | None
    query: str
    calls: int
    mean_ms: float
    cost_before: float | None = None
    cost_after: float | None = None
    indexes: list[str] = field(default_factory=list)   # suggested indexes its new plan uses
    values: dict[str, str | None] = field(default_factory=dict)  # "$1" -> the value it was planned with
    values_source: str = "generic"                     # "qualstats", "stats" (see analyze.values) or "generic"
    scenarios: list[dict[str, Any]] = field(default_factory=list)  # values, source, weight of each scenario
    params: list[ParamValue] = field(default_factory=list)   # per $n: value and where it came from
    generic_params: list[str] = field(default_factory=list)  # $n without a value: planned generic
    note: str = ""                 # e.g. why no index helps a statement that is much of the workload's cost

    @property
    def partly_generic(self) -> bool:
        """Planned with a $n generic: its cost is not the cost with the values it runs with."""
        return bool(self.generic_params)
    role: str | None = None                            # the role that ran it (pg_stat_statements.userid)
    search_path: list[str] = field(default_factory=list)   # the schemas its names were resolved in
    planned_as: str | None = None                      # SET LOCAL ROLE it was planned under (row security)
    settings: dict[str, str] = field(default_factory=dict)  # what its row security policies read, as planned
    notes: list[str] = field(default_factory=list)     # where pgtune could not plan it as its role would run it

    @property
    def context(self) -> PlanContext:
        """The session it is planned in (see analyze.sessions)."""
        return PlanContext(search_path=tuple(self.search_path) if self.role is not None else None,
                           role=self.planned_as, settings=tuple(self.settings.items()))

    @classmethod
    def of(cls, st: Statement) -> AnalyzedStatement:
        return cls(queryid=st.queryid, query=st.query, calls=st.calls, mean_ms=st.mean_ms)


@dataclass
class Skipped:
    queryid: int | None
    query: str
    reason: str
    kind: SkipKind = SkipKind.UNPARSABLE


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

    @property
    def knee(self) -> CurvePoint | None:
        """The curve's knee: the step farthest above the straight line from start to end (Kneedle)."""
        if len(self.curve) < 3:
            return None
        first, last = self.curve[0], self.curve[-1]
        span_x = (last.forecast_bytes - first.forecast_bytes) or 1
        span_y = (first.cost - last.cost) or 1.0
        return max(self.curve, key=lambda p: (first.cost - p.cost) / span_y
                   - (p.forecast_bytes - first.forecast_bytes) / span_x)

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
        out = asdict(self)
        out["workload_cost_before"] = self.workload_cost_before
        out["workload_cost_after"] = self.workload_cost_after
        out["valued_cost_before"] = self.valued_cost(before=True)
        out["valued_cost_after"] = self.valued_cost(before=False)
        out["generic_cost_before"] = self.generic_cost(before=True)
        out["generic_cost_after"] = self.generic_cost(before=False)
        out["generic_statements"] = len(self.generic_statements)
        knee = self.knee
        out["knee"] = knee.step if knee is not None else None
        return out


@dataclass
class Options:
    workload: WorkloadFilter = field(default_factory=WorkloadFilter)
    min_rows: int = 1000            # skip tables with fewer rows (reltuples)
    max_indexes: int | None = None
    max_index_mb: float | None = None
    exclude: tuple[str, ...] = ()   # tables (name or schema.name) whose statements are left out
    rare_value: float = RARE_VALUE  # a constant below this row fraction makes a partial index
    use_hypopg: bool | None = None  # None: when installed
    write_scale: float | None = None  # scales table writes to the workload window; None: measured
    size_basis: SizeBasis = SizeBasis.FORECAST   # what max_index_mb and benefit per byte count
    statistics: bool = True         # propose CREATE STATISTICS where correlated columns are misestimated




def suggest(conn: psycopg.Connection[Any], statements: list[Statement] | None = None,
            options: Options | None = None, progress: Progress | None = None) -> Advice:
    """Capture a snapshot (the workload unless given, and the catalog) and advise on it."""
    opts = options or Options()
    snap = snapshot(conn, opts.workload, statements=statements, progress=progress)
    return advise(conn, snap, opts, progress)


def advise(conn: psycopg.Connection[Any], snap: Snapshot, options: Options | None = None,
           progress: Progress | None = None) -> Advice:
    """The index advice for a snapshot; ``conn`` serves only the what-if planning."""
    opts = options or Options()
    say = progress or (lambda _msg: None)
    if opts.write_scale is None:
        opts = replace(opts, write_scale=snap.write_scale)
    caps = snap.capabilities
    use_hypo = caps.hypopg_installed if opts.use_hypopg is None else opts.use_hypopg
    advice = Advice(method=HYPOPG if use_hypo else HEURISTIC, hints=caps.what_if_hints() if not use_hypo else [],
                    server_version=caps.server_version)
    advice.hints.extend(snap.hints())
    advice.hints.extend(caps.qualstats_hints())
    advice = _Selection(conn, snap.catalog, opts, advice, say, snap.text_limit, snap.constants,
                        snap.shares, snap.roles).run(snap.statements)
    if opts.statistics:
        say("checking the estimates of filters on several columns (extended statistics)")
        advice.statistics, notes = extended_stats.propose(conn, snap.catalog, extended_stats.planned(advice.statements))
        advice.hints.extend(notes)
    return advice


class _Selection:
    def __init__(self, conn: psycopg.Connection[Any], catalog: Catalog, opts: Options, advice: Advice,
                 say: Progress, text_limit: int, constants: dict[int, list[QualConstant]] | None = None,
                 shares: dict[int, list[QualShare]] | None = None,
                 roles: Roles | None = None) -> None:
        self.conn, self.catalog, self.opts, self.advice, self.say = conn, catalog, opts, advice, say
        self.roles = roles if roles is not None else Roles(session_path=catalog.search_path)
        self.text_limit = text_limit
        self.constants = constants or {}
        self.shares = shares or {}
        self.distinct: dict[tuple[TableKey, tuple[str, ...]], float | None] = {}   # sampled key counts
        self.forecasts: dict[Ident, int] = {}
        self.kept: dict[tuple[TableKey, str], float | None] = {}    # sampled shares of partial predicates

    # -- analysis -------------------------------------------------------------

    def run(self, statements: list[Statement]) -> Advice:
        analyzed = [(st, self._with_constants(st, shape)) for st, shape in self._bind_all(statements)]
        self.say(f"analyzed {len(analyzed)} statements, skipped {len(self.advice.skipped)}")
        self.advice.hints.extend(partitions.statistics_hints(self.catalog, {t for _, s in analyzed for t in s.tables}))
        cands: list[Candidate] = []
        joined: set[tuple[tuple[str, str], str]] = set()
        for pos, (_st, shape) in enumerate(analyzed):
            cands.extend(from_shape(shape, pos, self.catalog, rare=self.opts.rare_value))
            joined |= {(u.table, u.column) for u in shape.uses if u.role == JOIN}
        deleted = {key for st, shape in analyzed if shape.kind == "delete"
                   and (key := self._delete_target(st)) is not None}
        cands.extend(for_foreign_keys(self.catalog, joined, deleted))
        cands = [c for c in cands if self._worth_it(c)]
        merged = merge(cands)
        self.say(f"{len(merged)} candidate indexes")

        rows = [AnalyzedStatement.of(st) for st, _ in analyzed]
        for row, (st, shape) in zip(rows, analyzed, strict=True):
            self._session(row, st, shape)
            found = valued(shape, self.catalog, _nparams(st.query), self.constants.get(st.queryid or 0),
                           sample=self._sample, shares=self.shares.get(st.queryid or 0),
                           rows_per_call=st.rows / st.calls if st.calls and st.rows else None)
            row.params, row.generic_params = found.params, found.generic_params
            if found.scenarios:
                row.values, row.values_source = found.scenarios[0].values, str(found.scenarios[0].source)
                row.scenarios = [s.as_dict() for s in found.scenarios]
        self.advice.statements = rows
        if self.advice.method == HYPOPG:
            chosen = self._cost(cands, analyzed, rows)
            self.advice.hints.extend(unhelped.mark(rows))
        else:
            chosen = [(c, None) for c in sorted(merged, key=lambda c: -sum(analyzed[p][0].calls
                                                                           for p in c.statements))]
            if self.opts.max_indexes is not None:
                chosen = chosen[: self.opts.max_indexes]
        served: dict[str, list[int]] = {}
        for pos, r in enumerate(rows):
            for name in r.indexes:
                served.setdefault(name, []).append(pos)
        self.advice.indexes = [self._suggestion(c, size, analyzed, rows, served) for c, size in chosen]
        return self.advice

    def _with_constants(self, st: Statement, shape: Shape) -> Shape:
        """An equality ``$n`` the workload fills with one value (pg_qualstats) counts as that constant.

        So ``status = $1``, run with 'pending' nearly every time, can get the partial index a
        literal ``status = 'pending'`` would.
        """
        constants = self.constants.get(st.queryid or 0)
        if not constants:
            return shape
        uses = []
        for u in shape.uses:
            if u.role == EQ and u.value is None:
                param = next((p for p in shape.params.values()
                              if p.table == u.table and p.column == u.column and p.op == "="), None)
                value = observed(param, constants, dominant=DOMINANT) if param is not None else None
                if value is not None:
                    u = replace(u, value=ddl.literal(value))
            uses.append(u)
        return replace(shape, uses=uses)

    def _bind_all(self, statements: list[Statement]) -> list[tuple[Statement, Shape]]:
        analyzed: list[tuple[Statement, Shape]] = []
        excluded = set(self.opts.exclude)
        for st in statements:
            try:
                shape = bind(st.query, self.catalog, self.roles.view(st.userid))
            except ParseFailed as exc:
                if not exc.noise:
                    self.advice.skipped.append(Skipped(st.queryid, st.query, *self._parse_reason(st, exc)))
                continue
            hit = sorted(f"{s}.{t}" for s, t in shape.tables if t in excluded or f"{s}.{t}" in excluded)
            if shape.temporary:
                self.advice.skipped.append(Skipped(
                    st.queryid, st.query, f"reads temporary table {', '.join(sorted(set(shape.temporary)))}: it "
                    "lives in the session that creates it; an index on it is that session's to create",
                    SkipKind.TEMPORARY))
            elif hit:
                self.advice.skipped.append(Skipped(st.queryid, st.query, f"excluded table {', '.join(hit)}",
                                                   SkipKind.EXCLUDED))
            elif shape.unbound and not shape.tables:
                self.advice.skipped.append(Skipped(
                    st.queryid, st.query, "references no known table (temporary or dropped?): "
                    + ", ".join(sorted(set(shape.unbound))[:5]), SkipKind.UNKNOWN_TABLE))
            elif not shape.uses:
                self.advice.skipped.append(Skipped(st.queryid, st.query, "no filter, join or sort on a user table",
                                                   SkipKind.NO_FILTER))
            else:
                analyzed.append((st, shape))
        return analyzed

    def _delete_target(self, st: Statement) -> TableKey | None:
        """The table a DELETE of the workload deletes from (its foreign keys' children are then searched)."""
        try:
            node: Any = parse_one(st.query)
        except ParseFailed:
            return None
        node = node.query if isinstance(node, pg_ast.PrepareStmt) else node
        if not isinstance(node, pg_ast.DeleteStmt) or node.relation is None or not node.relation.relname:
            return None
        return self._resolve(node.relation.schemaname, node.relation.relname)

    def _parse_reason(self, st: Statement, exc: ParseFailed) -> tuple[str, SkipKind]:
        if exc.reason.startswith("unparsable") and len(st.query.encode()) >= self.text_limit - 1:
            return (f"truncated: the text is cut at track_activity_query_size ({self.text_limit} bytes); "
                    "raise it to see the whole statement", SkipKind.TRUNCATED)
        if exc.reason.startswith("unparsable") and ("end of input" in exc.reason or "unterminated" in exc.reason):
            return ("truncated or incomplete statement: " + exc.reason.removeprefix("unparsable: "),
                    SkipKind.TRUNCATED)
        return exc.reason, (SkipKind.UTILITY if exc.reason.startswith("utility") else SkipKind.UNPARSABLE)

    def _worth_it(self, cand: Candidate) -> bool:
        table = self.catalog.tables.get(cand.table)
        if table is None:
            return False
        if cand.table[1] in self.opts.exclude or ".".join(cand.table) in self.opts.exclude:
            return False        # --exclude: no proposal of any origin (a foreign key's included)
        if 0 <= table.reltuples < self.opts.min_rows:
            return False
        # An existing index on the same keys already does the work; a second one
        # only to INCLUDE a column is not worth its writes.
        bare = replace(cand, include=())
        existing = self.catalog.indexes_on(cand.table)
        if any(serves_index(i, bare) for i in existing):
            return False
        invalid = [i for i in existing if not i.is_valid and serves_index(replace(i, is_valid=True), bare)]
        for index in invalid:       # a twin would leave the INVALID one behind, still slowing every write
            hint = (f'{index.schema}."{index.name}" is INVALID ({index.definition}): the statements it serves '
                    "would use it once complete; `pgtune health` proposes the fix, so no twin is proposed here")
            if hint not in self.advice.hints:
                self.advice.hints.append(hint)
        return not invalid

    # -- what-if costing and selection ---------------------------------------

    def _cost(self, cands: list[Candidate], analyzed: list[tuple[Statement, Shape]],
              rows: list[AnalyzedStatement]) -> list[tuple[Candidate, int | None]]:
        """Greedy size-aware selection (analyze.selection), then the final plans with the chosen set."""
        touched = {c.table for c in cands}
        untouched: set[int] = set()     # no candidate on its tables: its plan cannot change
        for pos, (st, shape) in enumerate(analyzed):
            try:
                # Costed all the same: the headline is the analyzed workload's, not the part pgtune changes.
                rows[pos].cost_before = self._weighted(st.query, rows[pos])[0]
            except (psycopg.Error, ValueError) as exc:
                if lost(self.conn):
                    raise   # the connection is gone: not a property of this statement
                if self._viable(st.query, rows[pos]):
                    rows[pos].cost_before = self._weighted(st.query, rows[pos])[0]
                else:
                    self.advice.skipped.append(Skipped(st.queryid, st.query, f"cannot plan: {error_text(exc)}",
                                                       SkipKind.CANNOT_PLAN))
            if not shape.tables & touched:
                untouched.add(pos)
                rows[pos].cost_after = rows[pos].cost_before
        seeds = [c for c in cands if c.foreign_key is None or c.origin == WORKLOAD]
        seeds += [c for c in single_columns(analyzed) if self._worth_it(c)]
        self.say(f"what-if costing of {len(seeds)} candidates with hypopg")
        with whatif.session(self.conn, self.catalog.leaf_partitions) as hypo:
            seeds = self._creatable(hypo, seeds, analyzed)
            hypo.reset()
            costed = [p for p in range(len(analyzed)) if rows[p].cost_before is not None and p not in untouched]
            workload = [workload_of(analyzed[p][1], rows[p].calls, rows[p].cost_before or 0.0)
                        for p in costed]

            def planner(i: int, config: list[Candidate]) -> float:
                hypo.ensure(config, analyzed[costed[i]][1].tables)
                try:
                    return self._weighted_best(analyzed[costed[i]][0].query, analyzed[costed[i]][1],
                                               rows[costed[i]], config)[0]
                except (psycopg.Error, ValueError):
                    if lost(self.conn):
                        raise
                    # It planned without the new indexes; a what-if plan that fails (a planning
                    # timeout, say) credits the configuration with nothing.
                    return rows[costed[i]].cost_before or 0.0

            greedy = Greedy(workload, planner, forecast=self._forecast, hypopg_size=hypo.size,
                            upkeep=self._upkeep, widen_columns=widen_columns(analyzed),
                            basis=self.opts.size_basis)
            result = greedy.run(seeds)
            budget = self.opts.max_index_mb * 1048576 if self.opts.max_index_mb is not None else None
            steps = result.prefix(budget, self.opts.max_indexes, self.opts.size_basis)
            chosen = greedy.prune(Selection.configuration(steps))
            kept = {ident(c) for c in chosen}
            self.advice.left_out = [self._name(c) for c in Selection.configuration(steps) if ident(c) not in kept]
            self._curve(result, len(steps))
            self.say(f"selection: {len(result.steps)} steps, {result.what_if_calls} what-if plans "
                     f"({result.cache_hits} from cache)")
            size = hypo.size if self.opts.size_basis == SizeBasis.HYPOPG else self._forecast
            used = sum(size(c) for c in chosen)
            for fk in (c for c in cands if c.foreign_key is not None and c.origin == FOREIGN_KEY):
                if any(c.table == fk.table and serves(c.keys, c.where, c.include, fk) for c in chosen):
                    continue
                if budget is not None and used + size(fk) > budget:
                    continue
                if self.opts.max_indexes is not None and len(chosen) >= self.opts.max_indexes:
                    continue
                chosen.append(fk)
                used += size(fk)
            hypo.reset()
            for i, c in enumerate(chosen):
                hypo.create(i, c)
            used_by = self._plan_with(hypo, chosen, analyzed, rows, costed)
            serving = set().union(*used_by.values()) if used_by else set()
            return [(c, hypo.sizes.get(ident(c))) for i, c in enumerate(chosen)
                    if i in serving or c.foreign_key is not None]

    def _creatable(self, hypo: whatif.Hypothetical, seeds: list[Candidate],
                   analyzed: list[tuple[Statement, Shape]]) -> list[Candidate]:
        """The seeds the server accepts as indexes; the others are reported as rejected."""
        out = []
        seen: set[Ident] = set()
        for c in seeds:
            if ident(c) in seen:
                continue
            seen.add(ident(c))
            try:
                hypo.create(-1, c)
            except psycopg.Error as exc:
                if lost(self.conn):
                    raise
                # Aggregates, window or volatile functions, subqueries…: the server refuses the
                # index itself. One refused candidate never sinks the run.
                self.advice.rejected.append(Rejected(
                    schema=c.table[0], table=c.table[1], keys=[k.ident for k in c.keys],
                    reason=f"the server refuses this index: {error_text(exc)}",
                    queries=[analyzed[p][0] for p in sorted(c.statements)]))
                continue
            out.append(c)
        return out

    def _forecast(self, cand: Candidate) -> int:
        key = ident(cand)
        if key not in self.forecasts:
            self.forecasts[key] = self._forecast_new(cand)
        return self.forecasts[key]

    def _forecast_new(self, cand: Candidate) -> int:
        table = self.catalog.tables.get(cand.table)
        if table is not None and table.partitioned:
            # Built once per partition, each with its partition's rows and statistics (analyze.partitions).
            return sum(self._forecast_on(leaf, cand) for leaf in self.catalog.leaf_partitions(cand.table)
                       if leaf != cand.table)
        return self._forecast_on(cand.table, cand)

    def _forecast_on(self, on: TableKey, cand: Candidate) -> int:
        """The forecast of ``cand``'s index on ``on`` (the candidate's table, or one of its partitions)."""
        distinct = None
        table = self.catalog.tables.get(on)
        rows = table.reltuples if table else 0.0
        # A sample pays where a wrong guess costs megabytes: on small tables the model's guess will do.
        if (len(cand.keys) > 1 or any(k.expression is not None for k in cand.keys)) and rows >= SAMPLE_ROWS:
            key = (on, tuple(k.ident for k in cand.keys))
            if key not in self.distinct:
                self.distinct[key] = sizing.sample_distinct(self.conn, on, cand.keys, rows)
            distinct = self.distinct[key]
        return sizing.forecast(self.catalog, on, cand.keys, include=cand.include,
                               fraction=self._kept(cand), distinct=distinct)

    def _kept(self, cand: Candidate) -> float | None:
        """The share of rows a partial candidate keeps: sampled when the statistics can only guess."""
        if cand.where is None or cand.where_fraction is None:
            return cand.where_fraction
        if cand.where_guessed and (cand.table, cand.where) not in self.kept:
            table = self.catalog.tables.get(cand.table)
            rows = table.reltuples if table else 0.0
            sampled = sizing.sample_fraction(self.conn, cand.table, cand.where, rows) if rows > 0 else None
            self.kept[(cand.table, cand.where)] = sampled if sampled is not None else cand.where_fraction
        return self.kept.get((cand.table, cand.where), cand.where_fraction)

    def _curve(self, result: Selection, chosen: int) -> None:
        self.advice.curve = [CurvePoint(step=0, action="none", index=None, replaces=None, forecast_bytes=0,
                                        hypopg_bytes=0, cost=result.base_cost, chosen=True)]
        for n, s in enumerate(result.steps, start=1):
            self.advice.curve.append(CurvePoint(
                step=n, action=str(s.kind), index=self._name(s.index),
                replaces=self._name(s.replaces) if s.replaces is not None else None,
                forecast_bytes=s.forecast_bytes, hypopg_bytes=s.hypopg_bytes, cost=s.cost, chosen=n <= chosen))
        self.advice.what_if_calls = result.what_if_calls

    def _plan_with(self, hypo: whatif.Hypothetical, cands: list[Candidate],
                   analyzed: list[tuple[Statement, Shape]], rows: list[AnalyzedStatement],
                   positions: Any) -> dict[int, set[int]]:
        """Re-plan ``positions``; return, per statement, the candidates its plan uses."""
        used_by: dict[int, set[int]] = {}
        for pos in positions:
            row = rows[pos]
            if row.cost_before is None:
                continue
            cost, used = self._weighted_best(analyzed[pos][0].query, analyzed[pos][1], row, cands)
            hits = {hypo.names[n] for n in used if n in hypo.names}
            if hits and cost < row.cost_before * (1 - MIN_GAIN):
                used_by[pos] = hits
                row.cost_after = cost
                row.indexes = sorted(self._name(cands[h]) for h in hits)
            else:
                row.cost_after = row.cost_before
                row.indexes = []
        return used_by

    def _session(self, row: AnalyzedStatement, st: Statement, shape: Shape) -> None:
        """Plan the statement as its role ran it: search_path, row security (analyze.sessions)."""
        found = sessions.session_for(self.roles.view(st.userid), shape, self.catalog, self.roles.session_role,
                                     self._sample)
        row.role, row.search_path, row.planned_as = found.role, list(found.search_path), found.planned_as
        row.settings, row.notes = dict(found.settings), list(found.notes)

    def _sample(self, table: TableKey, columns: list[str]) -> dict[str, str] | None:
        return sample_row(self.conn, table, columns)

    def _weighted_best(self, query: str, shape: Shape, row: AnalyzedStatement,
                       config: list[Candidate]) -> tuple[float, frozenset[str]]:
        """``_weighted``, also with each table of a partial or expression candidate moved first.

        HypoPG costs those candidates only on the statement's first table
        (see analyze.anchor); each reordering is a plan the server could
        choose, so the cheapest of them is still a cost it can reach. Only
        a candidate the statement could use asks for one: a partial index
        on a table it filters, an expression index on an expression it tests.
        """
        best = self._weighted(query, row)
        filtered = {u.table for u in shape.uses if u.role in (EQ, RANGE, NULL)} | {c.table for c in shape.conjuncts}
        tested = {(u.table, u.expression) for u in shape.uses if u.role == FUNC}
        anchored = {c.table for c in config
                    if (c.where is not None and c.table in filtered)
                    or any((c.table, k.expression) in tested for k in c.keys if k.expression is not None)}
        if not anchored:
            return best
        path = tuple(row.search_path) if row.role is not None else None
        for text in anchor.reorderings(query, anchored, lambda schema, name: self._resolve(schema, name, path)):
            try:
                got = self._weighted(text, row)
            except (psycopg.Error, ValueError):
                if lost(self.conn):
                    raise
                continue        # the original order planned: a reordering that does not is no loss
            if got[0] < best[0]:
                best = got
        return best

    def _resolve(self, schema: str | None, name: str, path: tuple[str, ...] | None = None) -> TableKey | None:
        table = self.catalog.lookup(schema, name, path)
        return table.key if table is not None else None

    def _weighted(self, query: str, row: AnalyzedStatement) -> tuple[float, frozenset[str]]:
        """The statement's cost over the workload, and the indexes its main scenario uses.

        Its plans with the values of each scenario, averaged by the executions
        each stands for (analyze.scenarios.weighted_cost, which verify applies to
        the same scenarios); the generic plan when no $n has a value.
        """
        found = [Scenario.of(s) for s in row.scenarios] or [Scenario({}, ValueSource.GENERIC)]
        plans = explain_scenarios(self.conn, query, [s.values for s in found], context=row.context)
        cost = weighted_cost([p.cost for p in plans], found)
        return cost or 0.0, plans[0].indexes      # verify checks the main scenario: the index must serve it

    def _viable(self, query: str, row: AnalyzedStatement) -> bool:
        """Keep only the scenarios the server can plan (a value it refuses sinks its own, not the others').

        True when some are left and some were dropped: the statement is then costed on those.
        """
        kept = []
        for raw in row.scenarios:
            try:
                explain_scenarios(self.conn, query, [Scenario.of(raw).values], context=row.context)
            except (psycopg.Error, ValueError):
                if lost(self.conn):
                    raise
                continue
            kept.append(raw)
        if not kept or len(kept) == len(row.scenarios):
            return False
        row.scenarios, row.values = kept, dict(kept[0]["values"])
        return True

    def _upkeep(self, cand: Candidate) -> float:
        """What maintaining the index costs over the workload's window, in planner cost units."""
        table = self.catalog.tables.get(cand.table)
        return (table.writes if table else 0) * WRITE_COST * (self.opts.write_scale or 0.0)

    # -- output -------------------------------------------------------------

    def _name(self, cand: Candidate) -> str:
        """The index's deterministic name, or the first free variant when a relation already holds it."""
        def make(n: int) -> str:
            return ddl.index_name(cand.table[1], cand.keys, "idx" if n == 1 else f"idx{n}",
                                  where_label=cand.where_label, include=cand.include)
        return self.catalog.free_name(cand.table[0], make(1), make)

    def _suggestion(self, cand: Candidate, size: int | None, analyzed: list[tuple[Statement, Shape]],
                    rows: list[AnalyzedStatement], served_by: dict[str, list[int]]) -> IndexSuggestion:
        schema, table = cand.table
        name = self._name(cand)
        if self.advice.method == HYPOPG:
            served = served_by.get(name, [])
        else:
            served = sorted(cand.statements)
        queries = [analyzed[p][0] for p in served]
        before = after = None
        if self.advice.method == HYPOPG and served:
            before = sum((rows[p].cost_before or 0) * rows[p].calls for p in served)
            after = sum((rows[p].cost_after or 0) * rows[p].calls for p in served)
        upkeep = self._upkeep(cand)
        redundant = made_redundant(cand, self.catalog)
        reason = self._reason(cand, before, after, len(served), upkeep)
        generic = [p for p in served if rows[p].partly_generic]
        if generic:
            reason += (f"; {len(generic)} of its statements planned with a $n no rule gives a value "
                       "(generic there): that part of the gain is the generic plan's")
        elif cand.foreign_key is not None and not served:
            reason += "; no statement's plan uses it: it serves the foreign key alone"
        if redundant:
            reason += f"; makes existing {', '.join(redundant)} redundant (it serves all they do)"
        return IndexSuggestion(
            schema=schema, table=table, name=name, columns=list(cand.columns),
            descending=[k.descending for k in cand.keys], expressions=[k.expression for k in cand.keys],
            where=cand.where, include=list(cand.include),
            origin=FOREIGN_KEY if cand.foreign_key is not None and not served else cand.origin,
            ddl=ddl.create_index(schema, table, name, cand.keys, where=cand.where, include=cand.include),
            rollback=ddl.drop_index(schema, name), analyze=ddl.analyze(schema, table),
            reason=reason, queries=queries, redundant=redundant,
            values=[rows[p].values for p in served], values_source=[rows[p].values_source for p in served],
            cost_before=before, cost_after=after, maintenance_cost=upkeep, estimated_bytes=size,
            forecast_bytes=self._forecast(cand), hot=cand.hot or bool(served))

    def _distinct_note(self, cand: Candidate) -> str:
        """Why the predicate's column is status-like, e.g. ``; status has 3 distinct values``."""
        if cand.where_column is None:
            return ""
        n = self.catalog.distinct_values(cand.table, cand.where_column)
        return f"; {cand.where_column} has {n:,.0f} distinct values" if n else ""

    def _reason(self, cand: Candidate, before: float | None, after: float | None, served: int,
                upkeep: float) -> str:
        parts = []
        if served:
            parts.append(f"serves {served} statement{'s' if served != 1 else ''}")
            if before and after:
                parts.append(f"planner cost {before / after:.1f}x lower")
        if cand.where:
            kept = self._kept(cand)
            share = f"{kept:.2%} of rows" if kept is not None else "few rows"
            parts.append(f"partial: only rows where {cand.where} ({share}{self._distinct_note(cand)})")
        if cand.include:
            parts.append("INCLUDE for index-only scans")
        if cand.foreign_key is not None:
            fk = cand.foreign_key
            parts.append(f"foreign key {fk.name} to {fk.ref_table} has no index")
        if upkeep and before and after:
            parts.append(f"write upkeep {upkeep:,.0f} < saving {before - after:,.0f}")
        return "; ".join(parts) or "candidate from the workload shape"


def _nparams(query: str) -> int:
    try:
        return prepare_text(query)[1]
    except ValueError:
        return 0


def _total(statements: list[AnalyzedStatement], *, before: bool) -> float | None:
    """Σ calls × cost over ``statements`` (before or after the new indexes); None when none was costed."""
    costs = [(s.cost_before if before else s.cost_after) for s in statements]
    found = [c * s.calls for c, s in zip(costs, statements, strict=True) if c is not None]
    return sum(found) if found else None
