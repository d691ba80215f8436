"""Selection: from candidates to the few indexes worth building, with their evidence.

With HypoPG the planner decides: every candidate is created hypothetically,
each statement is re-planned, and only candidates the planner actually picks
survive. Without HypoPG, pgtune says so (``method: heuristic``) and keeps the
candidates the shapes justify.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import psycopg

from .. import ddl
from ..capabilities import Capabilities, probe
from ..capture import Catalog, Statement, read_catalog, read_workload
from ..explain import explain
from . import whatif
from .bind import ParseFailed, Shape, bind
from .candidates import FOREIGN_KEY, Candidate, for_foreign_keys, from_shape, merge, serves_index

HEURISTIC = "heuristic"
HYPOPG = "hypopg"


@dataclass
class QueryRef:
    queryid: int | None
    query: str
    calls: int
    mean_ms: float


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
    queries: list[QueryRef] = field(default_factory=list)
    cost_before: float | None = None      # sum of calls x plan cost of the statements it serves
    cost_after: float | None = None
    estimated_bytes: int | None = None


@dataclass
class AnalyzedStatement:
    queryid: int | None
    query: str
    calls: int
    mean_ms: float
    cost_before: float | None = None
    cost_after: float | None = None
    indexes: list[str] = field(default_factory=list)   # suggested indexes its new plan uses


@dataclass
class Skipped:
    queryid: int | None
    query: str
    reason: str


@dataclass
class Advice:
    method: str
    indexes: list[IndexSuggestion] = field(default_factory=list)
    statements: list[AnalyzedStatement] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    server_version: str = ""

    @property
    def workload_cost_before(self) -> float | None:
        costs = [s.cost_before * s.calls for s in self.statements if s.cost_before is not None]
        return sum(costs) if costs else None

    @property
    def workload_cost_after(self) -> float | None:
        costs = [s.cost_after * s.calls for s in self.statements if s.cost_after is not None]
        return sum(costs) if costs else None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["workload_cost_before"] = self.workload_cost_before
        out["workload_cost_after"] = self.workload_cost_after
        return out


@dataclass
class Options:
    top: int = 50
    min_rows: int = 1000            # skip tables with fewer rows (reltuples)
    max_indexes: int | None = None
    use_hypopg: bool | None = None  # None: when installed


Progress = Callable[[str], None]


def suggest(conn: psycopg.Connection[Any], statements: list[Statement] | None = None,
            options: Options | None = None, progress: Progress | None = None) -> Advice:
    """Read the workload (unless given) and the catalog; return the advice."""
    opts = options or Options()
    say = progress or (lambda _msg: None)
    caps = probe(conn)
    if statements is None:
        caps.require_workload()
        say("reading pg_stat_statements")
        statements = read_workload(conn, opts.top)
    say("reading the catalog")
    catalog = read_catalog(conn)
    use_hypo = caps.hypopg_installed if opts.use_hypopg is None else opts.use_hypopg
    advice = Advice(method=HYPOPG if use_hypo else HEURISTIC, hints=caps.hints(),
                    server_version=caps.server_version)
    return _Selection(conn, catalog, caps, opts, advice, say).run(statements)


class _Selection:
    def __init__(self, conn: psycopg.Connection[Any], catalog: Catalog, caps: Capabilities,
                 opts: Options, advice: Advice, say: Progress) -> None:
        self.conn, self.catalog, self.caps, self.opts, self.advice, self.say = (
            conn, catalog, caps, opts, advice, say)

    def run(self, statements: list[Statement]) -> Advice:
        analyzed: list[tuple[Statement, Shape]] = []
        for st in statements:
            try:
                shape = bind(st.query, self.catalog)
            except ParseFailed as exc:
                self.advice.skipped.append(Skipped(st.queryid, st.query, exc.reason))
                continue
            if not shape.uses:
                self.advice.skipped.append(Skipped(st.queryid, st.query,
                                                   "no filter, join or sort on a user table"))
                continue
            analyzed.append((st, shape))
        self.say(f"analyzed {len(analyzed)} statements, skipped {len(self.advice.skipped)}")

        cands: list[Candidate] = []
        for pos, (_st, shape) in enumerate(analyzed):
            cands.extend(from_shape(shape, pos, self.catalog))
        cands.extend(for_foreign_keys(self.catalog))
        cands = [c for c in cands if self._worth_it(c)]
        merged = merge(cands)
        self.say(f"{len(merged)} candidate indexes")

        rows = [AnalyzedStatement(st.queryid, st.query, st.calls, st.mean_ms) for st, _ in analyzed]
        self.advice.statements = rows
        if self.advice.method == HYPOPG:
            chosen = self._cost(merged, analyzed, rows)
        else:
            chosen = [(c, None) for c in merged]
        if self.opts.max_indexes is not None:
            chosen = chosen[: self.opts.max_indexes]
        self.advice.indexes = [self._suggestion(c, size, analyzed, rows) for c, size in chosen]
        return self.advice

    def _worth_it(self, cand: Candidate) -> bool:
        table = self.catalog.tables.get(cand.table)
        if table is None:
            return False
        if 0 <= table.reltuples < self.opts.min_rows:
            return False
        return not any(serves_index(i, cand) for i in self.catalog.indexes_on(cand.table))

    def _cost(self, merged: list[Candidate], analyzed: list[tuple[Statement, Shape]],
              rows: list[AnalyzedStatement]) -> list[tuple[Candidate, int | None]]:
        """Keep the candidates the planner uses; record before/after cost per statement."""
        for pos, (st, _shape) in enumerate(analyzed):
            try:
                rows[pos].cost_before = explain(self.conn, st.query).cost
            except (psycopg.Error, ValueError) as exc:
                self.advice.skipped.append(Skipped(st.queryid, st.query,
                                                   f"cannot plan: {' '.join(str(exc).split())}"))
        self.say("what-if costing with hypopg")
        with whatif.session(self.conn) as hypo:
            used = self._plan_with(hypo, merged, analyzed, rows)
            keep = [c for i, c in enumerate(merged) if i in used or c.origin == FOREIGN_KEY]
            hypo.reset()
            sizes: dict[int, int] = {}
            for i, c in enumerate(keep):
                sizes[i] = hypo.create(i, c)[1]
            # Second pass with only the survivors: the "after" costs the user will see.
            self._plan_with(hypo, keep, analyzed, rows)
        return [(c, sizes.get(i)) for i, c in enumerate(keep)]

    def _plan_with(self, hypo: whatif.Hypothetical, cands: list[Candidate],
                   analyzed: list[tuple[Statement, Shape]], rows: list[AnalyzedStatement]) -> set[int]:
        if not hypo.names:
            for i, c in enumerate(cands):
                hypo.create(i, c)
        used: set[int] = set()
        for pos, (st, _shape) in enumerate(analyzed):
            if rows[pos].cost_before is None:
                continue
            plan = explain(self.conn, st.query)
            hits = {hypo.names[n] for n in plan.indexes if n in hypo.names}
            if plan.cost < rows[pos].cost_before:
                used |= hits
                rows[pos].cost_after = plan.cost
                rows[pos].indexes = sorted(self._name(cands[h]) for h in hits)
            else:
                rows[pos].cost_after = rows[pos].cost_before
                rows[pos].indexes = []
        return used

    def _name(self, cand: Candidate) -> str:
        return ddl.index_name(cand.table[1], cand.keys)

    def _suggestion(self, cand: Candidate, size: int | None, analyzed: list[tuple[Statement, Shape]],
                    rows: list[AnalyzedStatement]) -> IndexSuggestion:
        schema, table = cand.table
        name = self._name(cand)
        if self.advice.method == HYPOPG:
            served = [pos for pos, r in enumerate(rows) if name in r.indexes]
        else:
            served = sorted(cand.statements)
        queries = [QueryRef(analyzed[p][0].queryid, analyzed[p][0].query, analyzed[p][0].calls,
                            analyzed[p][0].mean_ms) for p in served]
        reason = self._reason(cand, served, rows)
        before = after = None
        if self.advice.method == HYPOPG and served:
            before = sum((rows[p].cost_before or 0) * rows[p].calls for p in served)
            after = sum((rows[p].cost_after or 0) * rows[p].calls for p in served)
        return IndexSuggestion(
            schema=schema, table=table, name=name, columns=list(cand.columns),
            descending=[k.descending for k in cand.keys],
            ddl=ddl.create_index(schema, table, name, cand.keys),
            rollback=ddl.drop_index(schema, name), analyze=ddl.analyze(schema, table),
            reason=reason, queries=queries, cost_before=before, cost_after=after, estimated_bytes=size)

    def _reason(self, cand: Candidate, served: list[int], rows: list[AnalyzedStatement]) -> str:
        parts = []
        if served:
            parts.append(f"serves {len(served)} statement{'s' if len(served) != 1 else ''}")
            if self.advice.method == HYPOPG:
                before = sum((rows[p].cost_before or 0) * rows[p].calls for p in served)
                after = sum((rows[p].cost_after or 0) * rows[p].calls for p in served)
                if after > 0:
                    parts.append(f"planner cost {before / after:.1f}x lower")
        if cand.foreign_key is not None:
            fk = cand.foreign_key
            parts.append(f"foreign key {fk.name} to {fk.ref_table} has no index")
        return "; ".join(parts) or "candidate from the workload shape"
