"""What-if costing: a statement's cost over its value scenarios, with the indexes the planner sees.

``Costing`` plans on one connection: a statement's weighted cost over its
scenarios (analyze.scenarios.weighted_cost, which verify applies too), with
its tables reordered where HypoPG needs it (analyze.anchor). ``WhatIf`` adds
that connection's hypothetical indexes: the cost of one statement under a
set of candidates. Each session has its own hypothetical indexes, so several
sessions, one ``WhatIf`` each, can cost statements side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import psycopg
from psycopg import pq

from ..capture import Catalog, TableKey
from ..connect import lost, session_stops
from ..explain import Plan, PlanContext, Round, explain_scenarios
from . import anchor, batch, calibration, immutable, whatif
from .analysis import Analysis
from .answers import CHARGED, Numbering
from .bind import EQ, FUNC, NULL, RANGE
from .candidates import Candidate
from .pool import Pool
from .scenarios import Scenario, ValueSource, counted, weighted_cost
from .selection import Ident, ident
from .selection_model import NO_IDENTS, Said

MIN_GAIN = 0.10    # a plan must get at least this much cheaper to credit the index
MAX_NAMES = 4_000   # names of hypothetical indexes said_many holds before those no longer made are forgotten


@dataclass(frozen=True)
class Priced:
    """A statement's cost over the workload, and the indexes its scenarios' plans use (by name)."""

    cost: float
    uses: frozenset[str]            # those its text's plans use, any scenario's (settle credits them)
    planned: float | None = None    # the planner's own cost of the same plans (no descent charged); None: the same
    every: frozenset[str] = frozenset()     # the indexes any of its plans uses (each reordered text's too)


class Costing:
    """Plans statements on one connection, in the session each runs in (analyze.sessions)."""

    def __init__(self, conn: psycopg.Connection[Any], catalog: Catalog,
                 price: Callable[[Plan], float] | None = None) -> None:
        self.conn, self.catalog = conn, catalog
        # A plan's cost as compared: in a what-if session, with the descents of its hypothetical
        # b-trees priced in (analyze.calibration, through whatif.Hypothetical.cost).
        self.price: Callable[[Plan], float] = price or (lambda plan: plan.cost)
        self._rounds: dict[tuple[int, str | None, bool], tuple[Analysis, object, PlanContext, Round]] = {}

    def price_now(self, a: Analysis) -> Exception | None:
        """Cost ``a`` with the indexes it has now (its ``cost_before``); the error when it cannot be planned.

        A value the server refuses sinks its own scenario only: the others are kept.
        """
        try:
            a.row.cost_before = self.weighted(a).cost
        except (psycopg.Error, ValueError) as exc:
            if lost(self.conn) or (isinstance(exc, psycopg.Error) and session_stops(self.conn, exc)):
                # The connection gone, or another session's lock (u13: a DETACH queued behind a long transaction):
                # not this statement. The command stops naming the holders (connect.no_lock_queue), as every
                # reading step does, instead of each statement waiting the timeout again ("cannot plan").
                raise
            if not self._viable(a):
                return exc
            a.row.cost_before = self.weighted(a).cost
        return None

    def weighted(self, a: Analysis, text: str | None = None) -> Priced:
        """The statement's cost over the workload, and the indexes its scenarios' plans use.

        Its plans with the values of each scenario, averaged by the executions
        each stands for (analyze.scenarios.weighted_cost, which verify applies to
        the same scenarios); the generic plan when no $n has a value.
        """
        found = a.scenarios or [Scenario({}, ValueSource.GENERIC)]
        plans = explain_scenarios(self.conn, text or a.query, [s.values for s in found], context=a.row.context)
        cost = weighted_cost([self.price(p) for p in plans], found)
        # Each scenario's plan: an index only the big tenant's calls use is what serves them (p15).
        return Priced(cost or 0.0, _used(plans, found), weighted_cost([p.cost for p in plans], found), _every(plans))

    def best(self, a: Analysis, config: Iterable[Candidate]) -> Priced:
        """``weighted``, also with each table of a partial or expression candidate moved first.

        HypoPG costs those candidates only on the statement's first table
        (see analyze.anchor); each reordering is a plan the server could
        choose, so the cheapest of them is still a cost it can reach. Only
        a candidate the statement could use asks for one: a partial index
        on a table it filters, an expression index on an expression it tests.
        """
        best = self.weighted(a)
        every = best.every
        for text in self.reorderings(a, config):
            try:
                got = self.weighted(a, text)
            except (psycopg.Error, ValueError):
                if lost(self.conn):
                    raise
                continue        # the original order planned: a reordering that does not is no loss
            every |= got.every
            if got.cost < best.cost:
                best = got
        return replace(best, every=every)     # every text's plans' indexes, as ``pick``'s

    def reorderings(self, a: Analysis, config: Iterable[Candidate]) -> list[str]:
        """The texts ``best`` plans besides the statement's own (none unless a candidate asks for one)."""
        filtered, tested = _tests(a)
        tables = a.shape.tables
        anchored = {c.table for c in config if c.table in tables and (
                    (c.where is not None and c.table in filtered)
                    or any((c.table, k.expression) in tested for k in c.keys if k.expression is not None))}
        if not anchored:
            return []
        path = tuple(a.row.search_path) if a.row.role is not None else None
        return list(anchor.reorderings(a.query, anchored, lambda schema, name: self._resolve(schema, name, path)))

    def rounds(self, a: Analysis, texts: Iterable[str | None]) -> list[Round]:
        """One Round per text (None: the statement's own) of ``a``'s scenarios, for a pipeline of several.

        Made once per statement and text and sent ``again`` after (until its scenarios or session change):
        selection asks about the same statement many times.
        """
        nested = self.conn.info.transaction_status == pq.TransactionStatus.INTRANS
        out = []
        context = a.row.context
        for text in texts:
            key = (id(a), text, nested)
            made = self._rounds.get(key)
            # The statement is held with its Round: its id names no other while the entry lives.
            if made is not None and made[0] is a and made[1] is a.scenarios and made[2] == context:
                out.append(made[3].again())
                continue
            found = a.scenarios or [Scenario({}, ValueSource.GENERIC)]
            r = Round(self.conn, text or a.query, [s.values for s in found], context=context)
            self._rounds[key] = (a, a.scenarios, context, r)
            out.append(r.again())
        return out

    def pick(self, a: Analysis, planned: list[list[Plan]]) -> Priced:
        """``best``'s answer from the plans of its Rounds (the statement's own first)."""
        found = a.scenarios or [Scenario({}, ValueSource.GENERIC)]
        best: Priced | None = None
        for plans in planned:
            got = Priced(weighted_cost([self.price(p) for p in plans], found) or 0.0, _used(plans, found),
                         weighted_cost([p.cost for p in plans], found), _every(plans))
            if best is None or got.cost < best.cost:
                best = got
        assert best is not None
        # Every text's plans: an index another text's plan priced could make that text the cheapest once repriced.
        return best if len(planned) == 1 else replace(best, every=_every([p for plans in planned for p in plans]))

    def _viable(self, a: Analysis) -> bool:
        """Keep only the scenarios the server can plan (a value it refuses sinks its own, not the others').

        True when some are left and some were dropped: the statement is then costed on those.
        """
        kept = []
        for s in a.scenarios:
            try:
                explain_scenarios(self.conn, a.query, [s.values], context=a.row.context)
            except (psycopg.Error, ValueError):
                if lost(self.conn):
                    raise
                continue
            kept.append(s)
        if not kept or len(kept) == len(a.scenarios):
            return False
        a.keep(kept)
        return True

    def _resolve(self, schema: str | None, name: str, path: tuple[str, ...] | None) -> TableKey | None:
        table = self.catalog.lookup(schema, name, path)
        return table.key if table is not None else None


def _trim(hypo: whatif.Hypothetical) -> None:
    """Forget the names of the indexes no longer made once they are MAX_NAMES: a question's plans are read before
    it returns, and each index made for said_many credited to its candidate held a name (76,000 at
    benchmarks/speed.py's 5,000 statements)."""
    if len(hypo.names) > MAX_NAMES and not hypo.waiting:
        live = {name for made in hypo.present.values() for _, name in made}
        hypo.names = {name: n for name, n in hypo.names.items() if name in live}


def _used(plans: list[Plan], found: list[Scenario]) -> frozenset[str]:
    """The indexes of the plans the statement's cost counts (analyze.scenarios.counted)."""
    if len(plans) == 1:
        return plans[0].indexes
    return frozenset().union(*(plans[i].indexes for i in counted(found, [True] * len(plans))))


def _every(plans: list[Plan]) -> frozenset[str]:
    return plans[0].indexes if len(plans) == 1 else frozenset().union(*(p.indexes for p in plans))


def _tests(a: Analysis) -> tuple[frozenset[TableKey], frozenset[tuple[TableKey, str | None]]]:
    """The tables ``a`` filters and the expressions it tests: worked out once per statement."""
    if a.tests is None:
        shape = a.shape
        a.tests = (frozenset({u.table for u in shape.uses if u.role in (EQ, RANGE, NULL)}
                             | {c.table for c in shape.conjuncts}),
                   frozenset({(u.table, u.expression) for u in shape.uses if u.role == FUNC}))
    return a.tests


class WhatIf:
    """One session's hypothetical indexes and its costing: a statement's cost under a set of candidates."""

    def __init__(self, costing: Costing, hypo: whatif.Hypothetical) -> None:
        self.costing, self.hypo = costing, hypo

    def cost(self, a: Analysis, config: list[Candidate]) -> float:
        """``a``'s cost with exactly ``config`` on its tables (as Greedy asks: analyze.selection.Planner)."""
        self.hypo.ensure(config, a.shape.tables)
        try:
            return self.costing.best(a, config).cost
        except (psycopg.Error, ValueError):
            if lost(self.costing.conn):
                raise
            # It planned without the new indexes; a what-if plan that fails (a planning
            # timeout, say) credits the configuration with nothing.
            return a.row.cost_before or 0.0

    def size(self, cand: Candidate) -> int:
        """HypoPG's size estimate for ``cand``."""
        return self.hypo.size(cand)

    def creatable(self, seeds: list[Candidate], refused: Callable[[Candidate, Exception], None]) -> list[Candidate]:
        """The seeds the server accepts as indexes (once each); ``refused`` hears of the others."""
        unique: dict[Ident, Candidate] = {}
        for c in seeds:
            unique.setdefault(ident(c), c)
        told = immutable.refusals(self.costing.conn, list(unique.values()))   # no ERROR in the server's log
        for n, c in enumerate(list(unique.values())):
            if n in told:
                refused(c, Exception(told[n]))
                del unique[ident(c)]
        seeds = list(unique.values())
        if self.hypo.create_all(list(unique.values())):    # the usual case: every one accepted, one round trip
            self.hypo.reset()
            return list(unique.values())
        out = []
        seen: set[Ident] = set()
        for c in seeds:
            if ident(c) in seen:
                continue
            seen.add(ident(c))
            try:
                self.hypo.create(-1, c)
            except psycopg.Error as exc:
                if lost(self.costing.conn):
                    raise
                # Aggregates, window or volatile functions, subqueries…: the server refuses the
                # index itself. One refused candidate never sinks the run.
                refused(c, exc)
                continue
            out.append(c)
        self.hypo.reset()
        return out

    def with_chosen(self, a: Analysis, chosen: list[Candidate], positions: dict[Ident, int]) -> tuple[Priced, set[int]]:
        """``a`` planned with the chosen indexes on its tables: its cost, and the chosen ones its plan uses."""
        self.hypo.ensure([c for c in chosen if c.table in a.shape.tables], a.shape.tables, positions)
        priced = self.costing.best(a, chosen)
        return priced, self._hits(priced)

    def _hits(self, priced: Priced) -> set[int]:
        return {self.hypo.names[n] for n in priced.uses if self.hypo.names.get(n, -1) >= 0}

    def cost_many(self, questions: list[tuple[Analysis, list[Candidate]]]) -> list[float]:
        """``cost`` of each question, as many of them in a round trip as can share one (analyze.batch)."""
        asks = [batch.Ask(a, config, config) for a, config in questions]
        got = batch.pipelined(self.costing, self.hypo, asks)
        if got is None:
            return [self.cost(a, config) for a, config in questions]
        return [p.cost for p in got]

    def said_many(self, questions: list[tuple[Analysis, list[Candidate]]], numbering: Numbering) -> list[Said]:
        """``cost_many``, each answer with the candidates its plans use (analyze.answers): each index made is
        credited to its candidate's number in ``numbering``, which holds every candidate of ``questions``."""
        got = batch.pipelined(self.costing, self.hypo, [batch.Ask(a, config, config, numbering.of)
                                                        for a, config in questions])
        if got is None:
            got = [self._priced(a, config, numbering) for a, config in questions]
        pricing = self.hypo.pricing
        out = []
        for p in got:
            uses, every = self._idents(p.uses, numbering), self._idents(p.every, numbering)
            out.append(Said(p.cost, uses, every, p.planned, pricing.unsampled(uses | every)
                            if pricing is not None and (uses or every) else NO_IDENTS))
        _trim(self.hypo)
        return out

    def _priced(self, a: Analysis, config: list[Candidate], numbering: Numbering) -> Priced:
        """``cost``'s answer with what its plans use."""
        self.hypo.ensure(config, a.shape.tables, numbering.of)
        try:
            return self.costing.best(a, config)
        except (psycopg.Error, ValueError):
            if lost(self.costing.conn):
                raise
            return Priced(a.row.cost_before or 0.0, frozenset())

    def _idents(self, names: frozenset[str], numbering: Numbering) -> frozenset[Ident]:
        found = [n for name in names if (n := self.hypo.names.get(name, -1)) >= 0]
        return frozenset(numbering.idents[n] for n in found) if found else NO_IDENTS

    def with_chosen_many(self, analyses: list[Analysis], chosen: list[Candidate],
                         positions: dict[Ident, int]) -> list[tuple[Priced, set[int]]]:
        """``with_chosen`` of each statement, as many of them in a round trip as can share one."""
        on_table: dict[TableKey, list[Candidate]] = {}
        for c in chosen:
            on_table.setdefault(c.table, []).append(c)
        return self.with_each([(a, [c for t in sorted(a.shape.tables) for c in on_table.get(t, ())])
                               for a in analyses], positions)

    def with_each(self, questions: list[tuple[Analysis, list[Candidate]]],
                  positions: dict[Ident, int]) -> list[tuple[Priced, set[int]]]:
        """Each statement planned with exactly its own list of the chosen indexes (those of its tables):
        its cost, and the ones its plan uses (by position in the chosen list)."""
        got = batch.pipelined(self.costing, self.hypo, [batch.Ask(a, mine, mine, positions) for a, mine in questions])
        if got is None:
            return [self.with_chosen(a, mine, positions) for a, mine in questions]
        return [(p, self._hits(p)) for p in got]


def settle(sessions: Pool[WhatIf], chosen: list[Candidate], analyses: list[Analysis], positions: Iterable[int],
           name: Callable[[Candidate], str], known: Callable[[int, list[Candidate]], Said | None] | None = None,
           ) -> dict[int, set[int]]:
    """Plan ``positions`` with the chosen indexes (those on each one's tables, as selection costed them):
    each statement's ``cost_after`` and the indexes its plan uses; per statement cut by MIN_GAIN, the candidates
    it credits. Its cost is the least of its plans with the set and with the set less
    one index its plan uses, as the curve's (_less_one). ``known``: a statement's answer with its list of the
    set where the selection's plans gave it already (analyze.answers.settled): not planned again."""
    for w in sessions.workers:
        w.hypo.reset()          # names from here on are positions in ``chosen``
    index = {ident(c): i for i, c in enumerate(chosen)}
    todo = [pos for pos in positions if analyses[pos].row.cost_before is not None]
    on_table: dict[TableKey, list[Candidate]] = {}
    for c in chosen:
        on_table.setdefault(c.table, []).append(c)
    said = {pos: s for pos in todo if known is not None and (s := known(pos, [
        c for t in sorted(analyses[pos].shape.tables) for c in on_table.get(t, ())])) is not None}
    asked = iter(sessions.map_blocks(lambda w, block: w.with_chosen_many([analyses[p] for p in block], chosen, index),
                                     [p for p in todo if p not in said], key=lambda p: batch.tables_key(analyses[p])))
    found = [next(asked) if pos not in said else _taken(said[pos], index) for pos in todo]
    fewer = _less_one(sessions, chosen, analyses, todo, found, index, known)
    used_by: dict[int, set[int]] = {}
    for pos, (priced, hits) in zip(todo, found, strict=True):
        priced, hits = min([(priced, hits), *fewer.get(pos, [])], key=lambda answer: answer[0].cost)
        row = analyses[pos].row
        before = row.cost_before or 0.0
        if hits and priced.cost < before:
            # Every cut the set's plan makes is predicted (the curve counts it, and the built set makes it: TPC-DS
            # at 250 MB left -0.41 points of built cost unpredicted in nine statements cut by under MIN_GAIN), and
            # its indexes are named, so that a withdrawal takes the cut back; only MIN_GAIN credits an index.
            row.cost_after = priced.cost
            row.indexes = sorted(name(chosen[h]) for h in hits)
            if priced.cost < before * (1 - MIN_GAIN):
                used_by[pos] = hits
        else:
            row.cost_after = row.cost_before
            row.indexes = []
    return used_by


Answer = tuple[Priced, set[int]]    # a statement's cost with some of the chosen indexes, and those its plan uses


def _taken(said: Said, index: dict[Ident, int]) -> Answer:
    """An answer of the selection's as settle's: its cost, and the chosen indexes (by position) its plan uses."""
    return Priced(said.cost, frozenset(), said.planned), {index[i] for i in said.uses if i in index}


def _less_one(sessions: Pool[WhatIf], chosen: list[Candidate], analyses: list[Analysis], todo: list[int],
              found: list[Answer], index: dict[Ident, int],
              known: Callable[[int, list[Candidate]], Said | None] | None = None) -> dict[int, list[Answer]]:
    """Per statement, its plans with the set less each chosen index its plan uses, where another chosen index is
    on its tables (with none left its plan is the one before, which settle keeps already).

    Once the set is built every such plan is open to the planner, which prices the descents of the built
    b-trees; a what-if plan that probes an index so often that the descent charge (analyze.calibration)
    makes it dearer than one of those is not the plan that runs. The curve's cost takes the least of
    them (analyze.curve.cost); so do the final plans, or the predicted cost of a statement rises when an
    index is added (TPC-H Q18 with ``customer (c_custkey)``, issue 28)."""
    questions: list[tuple[int, list[Candidate]]] = []
    on_table: dict[TableKey, list[int]] = {}
    for i, c in enumerate(chosen):      # not each statement over all of them (a quarter of settle's CPU at 5,000)
        on_table.setdefault(c.table, []).append(i)
    for pos, (priced, hits) in zip(todo, found, strict=True):
        mine = sorted(i for t in analyses[pos].shape.tables for i in on_table.get(t, ()))
        if len(mine) > 1 and _charged(priced):
            questions += [(pos, [chosen[i] for i in mine if i != gone]) for gone in sorted(hits)]
    if not questions:
        return {}
    said = [known(pos, config) if known is not None else None for pos, config in questions]   # as settle's
    # The same tables' questions side by side, the same sets among them (the order does not change the answers).
    got = iter(sessions.map_blocks(lambda w, block: w.with_each([(analyses[p], config) for p, config in block], index),
                                   [q for q, s in zip(questions, said, strict=True) if s is None],
                                   key=lambda q: (batch.tables_key(analyses[q[0]]), [index[ident(c)] for c in q[1]])))
    out: dict[int, list[Answer]] = {}
    for (pos, _config), s in zip(questions, said, strict=True):
        out.setdefault(pos, []).append(next(got) if s is None else _taken(s, index))
    return out


def _charged(priced: Priced) -> bool:
    """Could a plan with fewer indexes cost much less than ``priced``? By no more than the descents charged to
    it (analyze.calibration): without them the planner found no cheaper plan (within its 1% fuzz), and any plan
    costs at least the planner's own cost. A charge under CHARGED of the cost is not asked about: the cost could
    fall by less than that, well inside verify's 2x and the MIN_GAIN credit, and each question is one more plan
    per index used (speed.py's 1,000 statements: 6.6% more EXPLAINs when asked above 1%, 3.4% above 5%)."""
    return priced.planned is not None and priced.cost - priced.planned > CHARGED * priced.cost


def price_many(costing: Costing, analyses: list[Analysis]) -> list[Exception | None]:
    """``price_now`` of each statement, as many of them in a round trip as can share one (analyze.batch; in a
    what-if session, its statements kept prepared serve: batch.KEPT)."""
    got = batch.pipelined(costing, None, [batch.Ask(a, [], []) for a in analyses])
    if got is None:
        return [costing.price_now(a) for a in analyses]
    for a, priced in zip(analyses, got, strict=True):
        a.row.cost_before = priced.cost
    return [None] * len(analyses)


def twins(analyses: list[Analysis]) -> list[int]:
    """Per statement, the first of those with the same text, session and scenarios: they share plans."""
    first: dict[tuple[object, ...], int] = {}
    return [first.setdefault((a.query, a.row.context, tuple((tuple(sorted(s.values.items(), key=str)), s.weight)
                                                          for s in a.scenarios)), pos)
            for pos, a in enumerate(analyses)]


@contextmanager
def what_if(costing: Costing, pricing: calibration.Pricing | None = None,
            sizes: dict[Ident, int] | None = None) -> Iterator[WhatIf]:
    """A session of hypothetical indexes on ``costing``'s connection, reset whatever happens; with
    ``pricing``, its plans are costed with the b-tree descents HypoPG leaves out (analyze.calibration).
    Its statements kept prepared serve ``price_many`` on the same connection meanwhile (batch.KEPT)."""
    with whatif.session(costing.conn, costing.catalog.leaf_partitions, pricing, sizes) as hypo:
        batch.KEPT[id(costing.conn)] = hypo.kept
        try:
            yield WhatIf(Costing(costing.conn, costing.catalog, hypo.cost) if pricing is not None else costing, hypo)
        finally:
            batch.KEPT.pop(id(costing.conn), None)
