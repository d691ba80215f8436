"""Selection: from candidates to the few indexes worth building, with their evidence.

With HypoPG the planner decides: every candidate is created hypothetically,
each statement is re-planned, and only candidates the planner actually picks
survive. Each survivor is credited with the cost it removes (calls x plan cost,
shared among the candidates a plan uses), charged for the writes it would
have to maintain, and ranked; ``max_indexes`` and ``max_index_mb`` cut the
list. Without HypoPG, pgtune says so (``method: heuristic``) and keeps the
candidates the shapes justify.

The parts: each statement's record (analyze.analysis), what-if costing
(analyze.costing), sizes and write upkeep (analyze.footprint), the greedy
steps (analyze.selection), the wording (analyze.reasons) and the result
types (analyze.model).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg

from .. import ddl
from .._text import Progress, counted
from ..capture import Statement, TableKey, WorkloadFilter, sample_row, workload_time
from ..connect import lost
from ..snapshot import Snapshot, snapshot
from ..sqltext import StatementKind, forget_parses
from . import (
    asking,
    blind_sort,
    calibration,
    curve,
    extended_stats,
    heuristic,
    null_keys,
    order_keys,
    partitions,
    pool,
    reasons,
    scout,
    sizing,
    unhelped,
    written,
)
from .analysis import Analysis, Evidence, analyze, bind_all, delete_target
from .batch import tables_key
from .bind import JOIN
from .candidates import (
    FOREIGN_KEY,
    RARE_VALUE,
    WORKLOAD,
    Candidate,
    for_foreign_keys,
    from_shape,
    hash_twin,
    kept_unused,
    made_redundant,
    merge,
    replacing,
    serves,
    serves_index,
    unique_pins,
)
from .costing import Costing, WhatIf, price_many, settle, twins, what_if
from .footprint import Footprint
from .invalid_keys import not_rebuilt
from .model import UNCOSTED, Advice, AnalyzedStatement, IndexSuggestion, Method
from .pool import Pool
from .selection import Greedy, Ident, Selection, SizeBasis, Uses, Workload, ident, leading_twin
from .wide_keys import Widths
from .workload import single_columns, widen_columns, workload_of

PROGRESS_S = 10.0   # seconds between the progress lines of the selection's what-if costing


class _Asked:
    """The questions the selection asks, said every PROGRESS_S: minutes of costing printed nothing, and a DBA
    could not tell work from a hang (p11: a 20 MB log, 18 minutes)."""

    def __init__(self, say: Progress) -> None:
        self.say, self.total, self.last = say, 0, time.monotonic()

    def count(self, questions: int, chosen: Callable[[], int]) -> None:
        self.total += questions
        if time.monotonic() - self.last >= PROGRESS_S:
            self.last = time.monotonic()
            self.say(f"what-if costing: {counted(self.total, 'plan')} asked, "
                     f"{counted(chosen(), 'index', 'indexes')} chosen so far")


def _uses(sessions: Pool[WhatIf], analyses: list[Analysis], costed: list[int], seeds: list[Candidate],
          sample: Callable[[Candidate], object], asked: _Asked, workload: list[Workload]) -> Uses | None:
    """What analyze.scout asks: each question's statement (a selection position: one of ``costed``) planned with
    its candidates, and the ones its plan uses (by ident); None when no table is crowded enough to need it."""
    found = scout.crowded(workload, seeds)
    if found is None:
        return None
    (schema, name), statements, candidates = found
    asked.say(f"{counted(statements, 'statement')} x {counted(candidates, 'candidate')} on {schema}.{name}: each "
              "statement's useful candidates are found first (plans with all of them)")
    index = {ident(c): i for i, c in enumerate(seeds)}

    def uses(questions: list[tuple[int, list[Candidate]]]) -> list[set[Ident]]:
        for c in seeds:
            sample(c)       # sampled here, on the reads' session, not in a pool's thread
        asked.count(len(questions), lambda: 0)
        for w in sessions.workers:
            w.hypo.reset()      # names from here on are positions in ``seeds``
        got = sessions.map_blocks(ask, questions, key=lambda q: tables_key(analyses[costed[q[0]]]))
        return [{ident(seeds[h]) for h in hits} for hits in got]

    def ask(w: WhatIf, block: list[tuple[int, list[Candidate]]]) -> list[set[int]]:
        try:
            return [hits for _, hits in w.with_each([(analyses[costed[p]], mine) for p, mine in block], index)]
        except (psycopg.Error, ValueError):
            if lost(w.costing.conn):
                raise
            # A plan that fails (a planning timeout, say) names nothing: its statements keep every candidate
            # as useful, as if never scouted.
            return [{index[ident(c)] for c in mine} for _, mine in block]
    return uses


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
    jobs: int | None = None         # what-if sessions side by side (None: from the server; analyze.pool)


def suggest(conn: psycopg.Connection[Any], statements: list[Statement] | None = None,
            options: Options | None = None, progress: Progress | None = None) -> Advice:
    """Capture a snapshot (the workload unless given, and the catalog) and advise on it."""
    opts = options or Options()
    snap = snapshot(conn, opts.workload, statements=statements, progress=progress)
    return advise(conn, snap, opts, progress)


def advise(conn: psycopg.Connection[Any], snap: Snapshot, options: Options | None = None,
           progress: Progress | None = None) -> Advice:
    """The index advice for a snapshot; the what-if sessions, and one for reading tables, are opened like ``conn``."""
    opts = options or Options()
    say = progress or (lambda _msg: None)
    if opts.write_scale is None:
        opts = replace(opts, write_scale=snap.write_scale)
    caps = snap.capabilities
    use_hypo = caps.hypopg_installed if opts.use_hypopg is None else opts.use_hypopg
    advice = Advice(method=Method.HYPOPG if use_hypo else Method.HEURISTIC,
                    hints=caps.what_if_hints() if not use_hypo else [], server_version=caps.server_version)
    advice.hints.extend(snap.hints())
    advice.hints.extend(caps.qualstats_hints())
    with pool.aside(conn) as reads:     # the tables' samples on a session closed after them, with its caches
        _Advisor(conn, reads, snap, opts, advice, say).run()
        _count_uncosted(snap, advice)
        advice.hints.extend(reasons.per_tenant(advice, snap.catalog, opts.min_rows))
        if opts.statistics:
            say("checking the estimates of filters on several columns (extended statistics)")
            planned = extended_stats.planned(advice.statements)
            advice.statistics, notes = extended_stats.propose(reads, snap.catalog, planned)
            advice.hints.extend(notes)
    return advice


def valued(conn: psycopg.Connection[Any], snap: Snapshot) -> dict[str, AnalyzedStatement]:
    """Each statement of ``snap`` that binds, valued as suggest values it (query -> its record): its session
    and value scenarios, without costing anything. What health's guards are planned and timed with (u2's R2)."""
    bound, _ = bind_all(snap.statements, snap.catalog, snap.roles, (), snap.examples, reasons.row_functions(conn))
    known = _evidence(conn, snap)
    return {st.query: analyze(st, shape, known).row for st, shape in bound}


def _evidence(conn: psycopg.Connection[Any], snap: Snapshot) -> Evidence:
    return Evidence(snap.catalog, snap.roles, snap.constants, snap.shares,
                    lambda table, columns: None if snap.catalog.policed(table) else sample_row(conn, table, columns),
                    snap.unseen, snap.unseen_rows)


def _count_uncosted(snap: Snapshot, advice: Advice) -> None:
    """The workload's time in statements no plan costed (u2's F2, F8): a verdict on the rest is not on them."""
    # By role too: two roles' same text share a queryid, and one's may be costed where the other's is not.
    missed = {s.key for s in advice.skipped if s.kind in UNCOSTED}
    if advice.method == Method.HYPOPG:        # heuristic mode plans nothing: no statement has a cost there
        missed |= {s.key for s in advice.statements if s.cost_before is None}
    spent = {(st.queryid, st.query, st.userid): st.total_ms for st in snap.statements}
    for sk in advice.skipped:
        sk.total_ms = spent.get(sk.key, 0.0)
    advice.skipped.sort(key=lambda sk: sk.rank)
    advice.workload_ms = workload_time(snap.statements)
    advice.uncosted_ms = sum(st.total_ms for st in snap.statements if (st.queryid, st.query, st.userid) in missed)
    advice.uncosted_statements = len(missed)
    if advice.partly_costed:
        advice.hints.append(reasons.uncosted(advice))


Chosen = list[tuple[Candidate, int | None]]    # the indexes proposed, with HypoPG's size estimate


class _Advisor:
    """One run of the advice: the statements' records, the candidates, the selection, the proposals."""

    def __init__(self, conn: psycopg.Connection[Any], reads: psycopg.Connection[Any], snap: Snapshot, opts: Options,
                 advice: Advice, say: Progress) -> None:
        self.conn, self.reads, self.snap, self.catalog, self.opts, self.advice, self.say = \
            conn, reads, snap, snap.catalog, opts, advice, say
        self.footprint = Footprint(reads, snap.catalog, opts.write_scale or 0.0)
        self.outweighed: set[int] = set()   # id() of the statements' rows an index cut whose upkeep outweighed it
        self.wide = Widths(reads, snap.catalog)     # the columns a b-tree cannot hold (analyze.wide_keys)
        self.names: dict[tuple[object, str | None], str] = {}     # _name's answers (the catalog stays as read)
        self.unrebuilt: dict[tuple[str, str], str | None] = {}    # INVALID indexes health cannot rebuild: why

    def run(self) -> Advice:
        analyses = self._analyses()
        cands, merged = self._candidates(analyses)
        self.advice.statements = [a.row for a in analyses]
        if self.advice.method == Method.HYPOPG:
            chosen = self._select(cands, analyses)
            self.advice.hints.extend(unhelped.mark(self.advice.statements, self.outweighed))
        else:
            chosen = [(c, None) for c in heuristic.ranked(self.conn, self.catalog, merged, analyses, self.advice.hints)]
            chosen = chosen[: self.opts.max_indexes]      # None: all
        served: dict[str, list[int]] = {}
        for pos, a in enumerate(analyses):
            for name in a.row.indexes if a.row.credited else ():    # a cut under MIN_GAIN serves no target
                served.setdefault(name, []).append(pos)
        self.advice.indexes = [self._suggestion(c, size, analyses, served) for c, size in chosen]
        self.advice.sources = {(ix.schema, ix.name): c for ix, (c, _) in zip(self.advice.indexes, chosen, strict=True)}
        self.advice.wide_keys = list(self.wide.found.values())
        self.advice.hints.extend(self.wide.hints())
        return self.advice

    # -- analysis -------------------------------------------------------------

    def _analyses(self) -> list[Analysis]:
        snap = self.snap
        bound, skipped = bind_all(snap.statements, self.catalog, snap.roles, self.opts.exclude,
                                  snap.examples, reasons.row_functions(self.reads))
        self.advice.skipped.extend(skipped)
        self.advice.hints.extend(written.hints([(st.queryid, st.query, shape.written) for st, shape in bound],
                                               snap.examples, from_server=snap.from_server))
        self.say(f"analyzed {counted(len(bound), 'statement')}, skipped {len(self.advice.skipped)}")
        evidence = _evidence(self.reads, snap)
        analyses = [analyze(st, shape, evidence) for st, shape in bound]
        self.advice.hints.extend(partitions.statistics_hints(self.catalog,
                                                             {t for a in analyses for t in a.shape.tables}))
        return analyses

    def _candidates(self, analyses: list[Analysis]) -> tuple[list[Candidate], list[Candidate]]:
        """The candidates the shapes and foreign keys give (worth a look), and the same merged."""
        cands: list[Candidate] = []
        joined: set[tuple[tuple[str, str], str]] = set()
        for pos, a in enumerate(analyses):
            cands.extend(from_shape(a.shape, pos, self.catalog, rare=self.opts.rare_value,
                                    literals=not a.statement.values_vary))
            joined |= {(u.table, u.column) for u in a.shape.uses if u.role == JOIN}
        deleted = {key for a in analyses if a.shape.kind == StatementKind.DELETE
                   and (key := delete_target(a.statement, self.catalog)) is not None}
        cands = null_keys.narrowed(blind_sort.seen(cands, analyses)
                                   + for_foreign_keys(self.catalog, joined, deleted), self.catalog)
        self.wide.measure(cands)        # one read a table of the widths their keys may reach
        cands = [w for c in cands if (w := self._worth_it(c)) is not None]
        merged = merge(cands)
        self.say(counted(len(merged), "candidate index", "candidate indexes"))
        return cands, merged

    def _worth_it(self, cand: Candidate) -> Candidate | None:
        """``cand``, or what to cost in its place (an existing index's covering twin), or None."""
        table = self.catalog.tables.get(cand.table)
        if table is None:
            return None
        if cand.table[1] in self.opts.exclude or ".".join(cand.table) in self.opts.exclude:
            return None         # --exclude: no proposal of any origin (a foreign key's included)
        if 0 <= table.reltuples < self.opts.min_rows:
            return None
        # An existing index already does the work (the same keys, a hash index's
        # equality lookups, a unique key the candidate pins to one row); one with
        # the keys but not the INCLUDE is replaced by its covering twin, not doubled.
        bare = replace(cand, include=())
        existing = self.catalog.indexes_on(cand.table)
        if any(serves_index(i, cand) or hash_twin(i, bare) or unique_pins(i, bare) for i in existing):
            return None
        fitted = self.wide.fit(cand)    # without the keys too wide for a b-tree: judged again as it is left
        if fitted is not cand:
            return self._worth_it(fitted) if fitted is not None else None
        if any(serves_index(i, bare) for i in existing):
            return replacing(cand, existing)
        invalid = [i for i in existing if not i.is_valid and serves_index(replace(i, is_valid=True), bare)]
        # A twin would leave the INVALID one behind, still slowing every write: left to health, unless health cannot
        # build it again (a unique one with duplicate keys): then it is no index, and the plain one is priced.
        whys = {i.name: not_rebuilt(self.reads, i, self.unrebuilt) for i in invalid}
        for hint in (reasons.invalid_twin(i, whys[i.name]) for i in invalid):
            self.advice.hints.extend([hint] if hint not in self.advice.hints else [])
        return None if any(why is None for why in whys.values()) else cand

    # -- what-if costing and selection ---------------------------------------

    def _price_all(self, cands: list[Candidate], analyses: list[Analysis], sessions: Pool[WhatIf]) -> list[int]:
        """Cost every statement as it runs now; the positions a new index could change (the rest keep it)."""
        touched = {c.table for c in cands}
        costed = []
        # Costed all the same: the headline is the analyzed workload's, not the part pgtune changes.
        failures = sessions.map_blocks(lambda w, block: price_many(Costing(w.costing.conn, self.catalog), block),
                                       analyses)
        for pos, (a, failed) in enumerate(zip(analyses, failures, strict=True)):
            if failed is not None:
                self.advice.skipped.append(reasons.cannot_plan(a.statement, failed))
            if not a.shape.tables & touched:
                a.row.cost_after = a.row.cost_before     # no candidate on its tables: its plan cannot change
            elif a.row.cost_before is not None:
                costed.append(pos)
        return costed

    def _select(self, cands: list[Candidate], analyses: list[Analysis]) -> Chosen:
        """Greedy size-aware selection (analyze.selection), then the final plans with the chosen set."""
        jobs = pool.jobs_for(self.conn, self.opts.jobs)
        if jobs.note:
            self.advice.hints.append(jobs.note)
        pricing = self.advice.pricing = calibration.Pricing(self.catalog, self.footprint.share_kept,
                                                            self.footprint.distinct)
        sizes: dict[Ident, int] = {}    # HypoPG's: what one session learnt no other asks again (one opened anew)
        with pool.pool(None, self.conn, jobs.count,  # all the pool's, which recycles one grown too big: ask for
                       lambda c: what_if(Costing(c, self.catalog), pricing, sizes)) as sessions:   # .first at each use
            costed = self._price_all(cands, analyses, sessions)
            forget_parses()     # every statement is planned: its tree is read no more (but for a few: parsed again)
            pairs = [(a.statement, a.shape) for a in analyses]
            seeds = [c for c in cands if c.foreign_key is None or c.origin == WORKLOAD]
            # A sort-only seed of LIMITed statements that filter by a sent equality: the LIMIT trap (blind_sort)
            seeds += [w for c in blind_sort.seen(single_columns(pairs, self.catalog), analyses)
                      if (w := self._worth_it(c)) is not None]
            self.say(f"what-if costing of {counted(len(seeds), 'candidate')} with hypopg ({sessions.jobs} "
                     f"session{'s' if sessions.jobs > 1 else ''})")
            seeds = sessions.first.creatable(seeds, lambda c, exc: self.advice.rejected.append(reasons.refused(
                c, exc, [analyses[p].statement for p in sorted(c.statements)])))
            workload = [workload_of(analyses[p].shape, analyses[p].row.calls, analyses[p].row.cost_before or 0.0)
                        for p in costed]
            asked = _Asked(self.say)
            plan, plan_many = asking.planners(sessions, [analyses[p] for p in costed],
                                              self.footprint.share_kept,
                                              lambda n: asked.count(n, lambda: len(greedy.result.steps)))
            greedy = Greedy(workload, plan,
                            forecast=self.footprint.forecast, hypopg_size=lambda c: sessions.first.size(c),
                            upkeep=self.footprint.upkeep, widen_columns=self.wide.keyable(widen_columns(pairs)),
                            basis=self.opts.size_basis, plan_many=plan_many, overlaps=leading_twin(self.catalog),
                            twins=twins([analyses[p] for p in costed]), presize=self.footprint.prefetch,
                            uses=_uses(sessions, analyses, costed, seeds, self.footprint.share_kept, asked, workload))
            greedy.answers.sampled = pricing.sampled_now
            result = greedy.run(seeds)
            self.outweighed = {id(analyses[costed[p]].row) for p in result.outweighed}
            self.advice.hints.extend(result.overlap_notes())
            points = curve.points(greedy, result, self.opts.size_basis)
            point, chosen = curve.choose(greedy, result, points, self._budget(), self.opts.max_indexes,
                                         self.opts.size_basis)
            kept = {ident(c) for c in chosen}
            self.advice.left_out = [self._name(c) for c in Selection.configuration(result.steps[:point.step])
                                    if ident(c) not in kept]
            self._curve(result, points, point.step)
            self.say(f"selection: {counted(len(result.steps), 'step')}, "
                     f"{counted(result.what_if_calls, 'what-if plan')} ({result.cache_hits} from cache)")
            chosen = self._top_up(cands, self._ordered(chosen, analyses, sessions.first), sessions.first)
            for c in chosen:
                self.footprint.share_kept(c)    # sampled here, on the reads' session, not in a pool's thread
            while True:     # an index no plan uses leaves the set, and the rest are planned again (issue 23.8)
                used_by = settle(sessions, chosen, analyses, self._near(chosen, analyses, costed), self._name,
                                 asking.settled(greedy, costed))
                serving = set().union(*used_by.values()) if used_by else set()
                final = [c for i, c in enumerate(chosen) if i in serving or kept_unused(c)]
                if len(final) == len(chosen):
                    self._emitted(chosen, analyses, costed, sessions.first, result.base_cost)
                    return [(c, sessions.first.hypo.sizes.get(ident(c)) or sessions.first.size(c)) for c in chosen]
                chosen = final

    @staticmethod
    def _near(chosen: list[Candidate], analyses: list[Analysis], costed: list[int]) -> list[int]:
        """The statements of ``costed`` that read a table with a chosen index: the final plans are made for them.
        The others keep their plan (``cost_after`` is ``cost_before``, no index used: what planning them with no
        hypothetical index on their tables gave settle, a round trip's share each)."""
        tables = {c.table for c in chosen}
        out = []
        for pos in costed:
            if analyses[pos].shape.tables & tables:
                out.append(pos)
            else:
                row = analyses[pos].row
                row.cost_after, row.indexes = row.cost_before, []
        return out

    def _budget(self) -> float | None:
        """max_index_mb in bytes; in forecast bytes, less their measured error (sizing.FORECAST_MARGIN)."""
        if self.opts.max_index_mb is None:
            return None
        margin = sizing.FORECAST_MARGIN if self.opts.size_basis == SizeBasis.FORECAST else 0.0
        return self.opts.max_index_mb * 1048576 / (1.0 + margin)

    def _ordered(self, chosen: list[Candidate], analyses: list[Analysis], session: WhatIf) -> list[Candidate]:
        """``chosen`` with the sort keys an index lacks for a LIMITed ORDER BY it serves (analyze.order_keys)."""
        size = session.size if self.opts.size_basis == SizeBasis.HYPOPG else self.footprint.forecast
        budget = self._budget()
        return order_keys.complete(chosen, [a.shape for a in analyses], self.catalog,
                                   lambda s: all(self.wide.narrow(c) for c in s)
                                   and (budget is None or sum(size(c) for c in s) <= budget))

    def _top_up(self, cands: list[Candidate], chosen: list[Candidate], session: WhatIf) -> list[Candidate]:
        """Add the index of each unindexed foreign key no chosen index serves, while the budget allows."""
        size = session.size if self.opts.size_basis == SizeBasis.HYPOPG else self.footprint.forecast
        budget = self._budget()
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
        return chosen

    def _curve(self, result: Selection, points: list[curve.Point], chosen: int) -> None:
        """Each point the set a budget of its size emits (analyze.curve), named by the step it comes from."""
        self.advice.curve = curve.described(result, points, chosen, self._name)
        self.advice.what_if_calls = result.what_if_calls

    def _emitted(self, final: list[Candidate], analyses: list[Analysis], costed: list[int], session: WhatIf,
                 base: float) -> None:
        """The chosen point becomes the set emitted when a foreign key's top-up or the final plans changed it:
        its figures are that set's, sized as the curve sizes and costed by those plans."""
        point = [p for p in self.advice.curve if p.chosen][-1]
        names = sorted(self._name(c) for c in final)
        if names == point.indexes:
            return
        point.indexes = names
        point.forecast_bytes = sum(self.footprint.forecast(c) for c in final)
        point.hypopg_bytes = sum(session.size(c) for c in final)
        point.cost = base - sum(analyses[p].row.calls * ((analyses[p].row.cost_before or 0.0)
                                                        - (analyses[p].row.cost_after or 0.0)) for p in costed)

    # -- output -------------------------------------------------------------

    def _name(self, cand: Candidate) -> str:
        """The index's deterministic name, or the first free variant when a relation already holds it.

        Worked out once per (index, predicate label): the curve names every index of every point again.
        """
        memo = (ident(cand), cand.where_label)
        found = self.names.get(memo)
        if found is not None:
            return found

        def make(n: int) -> str:
            suffix = self.catalog.index_suffix
            return ddl.index_name(cand.table[1], cand.keys, suffix if n == 1 else f"{suffix}{n}",
                                  where_label=cand.where_label, include=cand.include)
        found = self.names[memo] = self.catalog.free_name(cand.table[0], make(1), make)
        return found

    def _suggestion(self, cand: Candidate, size: int | None, analyses: list[Analysis],
                    served_by: dict[str, list[int]]) -> IndexSuggestion:
        schema, table = cand.table
        name = self._name(cand)
        hypopg = self.advice.method == Method.HYPOPG
        served = [analyses[p] for p in (served_by.get(name, []) if hypopg else sorted(cand.statements))
                  if _reads(analyses[p], cand.table)]
        before = after = None
        if hypopg and served:
            before = sum((a.row.cost_before or 0) * a.row.calls for a in served)
            after = sum((a.row.cost_after or 0) * a.row.calls for a in served)
        upkeep = self.footprint.upkeep(cand)
        redundant = made_redundant(cand, self.catalog)
        reason = reasons.index_reason(cand, self.catalog, before=before, after=after, served=len(served),
                                      upkeep=upkeep, kept=self.footprint.share_kept(cand),
                                      generic=sum(a.row.partly_generic for a in served), redundant=redundant)
        return IndexSuggestion(
            schema=schema, table=table, name=name, columns=list(cand.columns),
            descending=[k.descending for k in cand.keys], expressions=[k.expression for k in cand.keys],
            where=cand.where, include=list(cand.include),
            origin=FOREIGN_KEY if cand.foreign_key is not None and not served else cand.origin,
            ddl=ddl.create_index(schema, table, name, cand.keys, where=cand.where, include=cand.include),
            rollback=ddl.drop_index(schema, name), analyze=ddl.analyze(schema, table),
            reason=reason, queries=[a.statement for a in served], redundant=redundant,
            values=[a.row.values for a in served], values_source=[a.row.values_source for a in served],
            cost_before=before, cost_after=after, maintenance_cost=upkeep, estimated_bytes=size,
            forecast_bytes=self.footprint.forecast(cand), hot=cand.hot or bool(served))


def _reads(a: Analysis, table: TableKey) -> bool:
    """Could ``a``'s plan have used an index on ``table``? A plan names an index without its schema, and a schema
    per tenant has the same name in each (p15): the statement reads that table, or at least that schema."""
    tables = a.shape.tables
    return not tables or table in tables or table[0] in {key[0] for key in tables}
