"""Size-aware index selection: greedy steps by benefit per byte (after Extend).

Extend (Schlosser, Kossmann, Boissier, ICDE 2019) grows a configuration one step at a time: a step adds a single-column
index or widens a chosen one by one more key column, so an index gets wider only when the width pays for its bytes.
Each step is costed with the configuration as it would be (the planner sees every index chosen so far: two indexes
serving the same statement are not both credited) and the step with the largest saving per forecast byte wins.

pgtune's additions:

* the statement shapes pgtune builds (equality columns, then sort or range; partial indexes for rare status values;
  INCLUDE for index-only scans) are offered whole beside the single columns: an index whose first column alone does
  not pay is still found;
* a step's saving is net of the write upkeep of a new index; one under MIN_STEP_SHARE needs bytes in proportion;
* a step may not make any statement's planned cost higher than it is with no new index at all (no regression by
  construction). A step that only adds an index leaves every plan before it open: a statement's cost after it is
  never above its cost before, though its what-if plan can look dearer (the descent charge calibration adds to a
  nested loop's many probes of the new index, TPC-DS Q72), as the planner prices the descents once the index is
  built. A step that drops an index (a widening) can close the plan before: its costs stand as planned;
* a replace step puts one index in place of two or more chosen ones whose columns it holds (analyze.swaps);
* the steps do not depend on the budget: a smaller budget's set is a prefix of a larger one's, the curve.

Plans are cached per (statement, the indexes on its tables that it could use). After a step on a table, the actions
whose statements read it become stale; each is re-costed only when its last ratio puts it at the top of the queue
(lazy greedy), and taken only if still the best once re-costed. An action reaches only the statements its index is
useful to (analyze.scout), so a table's statements and candidates cost a plan per statement and useful index.
"""

from __future__ import annotations

import heapq
import itertools
import operator
from collections.abc import Callable, Collection, Iterable, Iterator

from ..capture import TableKey
from ..ddl import IndexKey
from . import overlap, scout, swaps, widen
from .answers import Answers
from .candidates import Candidate, serves
from .overlap import Leading, leading_twin
from .selection_model import (  # the rooms import these from here too
    Action,
    Ident,
    Keyed,
    PlanMany,
    Planner,
    Question,
    Selection,
    SizeBasis,
    Step,
    StepKind,
    Uses,
    Workload,
    _Known,
    ident,
    order,
)

MAX_WIDTH = 4            # key columns an index may grow to by widening
MIN_STEP_SHARE = 0.002   # a step must save this share of the workload's cost…
MIN_GAIN = 0.10          # …or make a statement at least this much cheaper, with bytes in proportion:
STEP_BYTES = 64 << 20    # below MIN_STEP_SHARE, at most this much index per MIN_STEP_SHARE saved (_earns_bytes)
REGRESSION = 1e-6        # relative planned-cost rise that counts as a regression
Queued = tuple[float, tuple[object, ...], int, int, Action]    # -ratio, the index's order, action id, evaluations
AHEAD = 16               # queued actions whose questions a re-costing may plan with its own (_ahead)

__all__ = ["MAX_WIDTH", "MIN_GAIN", "MIN_STEP_SHARE", "REGRESSION", "STEP_BYTES", "Greedy", "Ident", "Keyed",
           "PlanMany", "Planner", "Question", "Selection", "SizeBasis", "Step", "StepKind", "Uses", "Workload", "ident",
           "leading_twin", "order"]


class Greedy:
    def __init__(self, workload: list[Workload], planner: Planner, *, forecast: Callable[[Candidate], int],
                 hypopg_size: Callable[[Candidate], int], upkeep: Callable[[Candidate], float],
                 widen_columns: dict[TableKey, list[IndexKey]], max_steps: int = 10_000,
                 basis: SizeBasis = SizeBasis.FORECAST, plan_many: PlanMany | None = None,
                 twins: list[int] | None = None, presize: Callable[[list[Candidate]], None] | None = None,
                 uses: Uses | None = None, overlaps: Leading | None = None) -> None:
        """``plan_many``: asks several questions at once (an action's, all seeds', prune's): each answer is
        the same whoever asks it, so the steps are those of the serial run. ``twins``: per statement, the
        first one of the same text, session and scenarios, whose plans it shares. ``presize``: told a step's
        new widenings before they are queued (each is sized when first costed): their sizes can be worked out
        at once. ``uses``: when given, each statement is reached only by its useful indexes and their kin
        (analyze.scout). ``overlaps``: the existing index that leads with a candidate's column (analyze.overlap)."""
        self.overlaps = overlaps
        self.presize, self.uses, self.useful, self.stand_ins = \
            presize, uses, None if uses is None else scout.Useful({}, {}), scout.StandIns()
        self.workload, self.planner, self.plan_many, self.twins = workload, planner, plan_many, twins
        self.fresh: set[tuple[int, ...]] = set()     # planned at once (prefetch), not asked for yet
        self.size = hypopg_size if basis == SizeBasis.HYPOPG else forecast
        self.forecast, self.hypopg_size, self.upkeep = forecast, hypopg_size, upkeep
        self.widen_columns, self.max_steps = widen_columns, max_steps
        # A question's key: the statement (its twin) and the numbers of the indexes it sees, sorted. Numbers,
        # not the indexes' idents: a frozenset of new ident tuples per key was 20 MB at 5,000 statements.
        self.answers = Answers()      # the costs (``cache``), and what the plans that used a candidate said of it
        self.cache = self.answers.costs
        self.answers.unindexed((t, workload[t].base_cost) for t in (range(len(workload)) if twins is None else twins))
        self.numbers: dict[Ident, int] = {}
        self.orders: list[tuple[object, ...]] = []      # each number's order(ident)
        self.result = Selection(base_cost=sum(w.calls * w.base_cost for w in workload))
        self.current = {i: w.base_cost for i, w in enumerate(workload)}
        self.config: dict[TableKey, dict[Ident, Candidate]] = {}   # chosen so far, per table
        self.by_table: dict[TableKey, list[int]] = {}
        for pos, t in ((pos, t) for pos, w in enumerate(workload) for t in w.tables):
            self.by_table.setdefault(t, []).append(pos)
        self.version: dict[TableKey, int] = {}      # steps taken on each table: what makes a cost stale
        self.forecast_total, self.hypopg_total, self.total = 0, 0, self.result.base_cost    # total: the cost so far
        # Per index, by the object (held in the value: its id names no other; cheaper than hashing its ident):
        # the statements it could change, its order and its ident's number, asked again and again. One set
        # per index (shared per shape: table, leading key, columns held), not an answer per (statement,
        # index): 168,000 answers, 29 MB at 5,000 statements.
        self.known: dict[int, _Known] = {}
        self.reach: dict[tuple[object, ...], Collection[int]] = {}
        self.worked: dict[int, tuple[Action, list[Keyed]]] = {}    # _questions' answers since the last step
        # prune's work per index (by the object's id; the object is held in the value): the tables its loss
        # depends on, and the loss with what it depended on then (the curve prunes set after set).
        self.loss_tables: dict[int, tuple[Candidate, tuple[TableKey, ...]]] = {}
        self.losses: dict[int, tuple[tuple[object, ...], float | None]] = {}

    # -- which statements an index can change ------------------------------

    def relevant(self, pos: int, cand: Candidate) -> bool:
        """Could ``cand`` change statement ``pos``'s plan (itself, or an index it stands in for: scout.StandIns)."""
        if pos in (self.known.get(id(cand)) or self._know(cand))[1]:
            return True
        stands = self.stand_ins.by.get(id(cand))     # StandIns.get inlined: asked ~2M times at 5,000 statements
        return stands is not None and pos in stands[1]

    def _know(self, cand: Candidate) -> _Known:
        key = ident(cand)
        number = self.numbers.setdefault(key, len(self.numbers))
        if number == len(self.orders):
            self.orders.append(order(key))
        # One order per index, shared by the candidates that are it (a widening is a new object each time).
        found = self.known[id(cand)] = (cand, self._reach(cand), self.orders[number], number)
        return found

    def _reach(self, cand: Candidate) -> Collection[int]:
        """The statements ``cand`` could change (analyze.scout.reach), worked out once per shape."""
        key = scout.reach_key(cand, self.useful)
        found = self.reach.get(key)
        if found is None:
            found = self.reach[key] = scout.reach(self.workload, self.by_table.get(cand.table, ()), cand, self.useful)
        return found

    def _config(self, pos: int, new: Candidate, gone: tuple[Candidate, ...]) -> list[Candidate]:
        out = [ident(c) for c in gone]
        config = [c for t in self.workload[pos].tables for key, c in self.config.get(t, {}).items() if key not in out]
        return [*config, new]

    def _question(self, pos: int, cands: Iterable[Candidate]) -> tuple[tuple[int, ...], dict[int, _Known]]:
        """The cache key of a question, and the candidates it sees (``_asked`` makes the question of them:
        only for a question not in the cache, most are)."""
        known, usable, by = self.known, {}, self.stand_ins.by
        for c in cands:
            k = known.get(id(c)) or self._know(c)
            if pos in k[1]:
                usable[k[3]] = k
            elif (stands := by.get(id(c))) is not None and (stand := stands[1].get(pos)) is not None:
                # StandIns.get inlined: ~2.4M candidates looked at per 5,000 statements
                k = known.get(id(stand)) or self._know(stand)
                usable[k[3]] = k
        twin = self.twins[pos] if self.twins is not None else pos
        return (twin, *sorted(usable)), usable     # one flat tuple: a nested one was 56 bytes more a plan

    @staticmethod
    def _asked(pos: int, usable: dict[int, _Known]) -> Question:
        """The question as the planner gets it: the candidates in one fixed order whatever the order of the sets
        they came from (an index's position can break a tie between two plans of equal cost: the same advice)."""
        return pos, [k[0] for k in sorted(usable.values(), key=operator.itemgetter(2))]

    def keyed(self, pos: int, cands: Iterable[Candidate]) -> Keyed:
        """A question worked out once for ``prefetch`` and ``cost_with`` (for each, a tenth of selection's CPU)."""
        return (pos, *self._question(pos, cands))

    def cost_with(self, pos: int, cands: Iterable[Candidate], keyed: Keyed | None = None,
                  parent: tuple[int, ...] | None = None) -> float:
        """Statement ``pos``'s cost with exactly ``cands`` (those it could use) present (cached); ``keyed``: that
        question as ``keyed`` made it; ``parent``: the question with one more (Answers.derive, else .wider)."""
        _, cache_key, usable = keyed or self.keyed(pos, cands)
        answers = self.answers      # a plan made at once before its question so answered is not counted, as serial
        if (cache_key in self.fresh or cache_key not in self.cache) and (
                (parent is not None and answers.derive(cache_key, parent)) or answers.wider(cache_key)):
            self.fresh.discard(cache_key)
        hit = self.cache.get(cache_key)
        if hit is not None and cache_key not in self.fresh:
            self.result.cache_hits += 1
            return hit
        self.result.what_if_calls += 1      # planned now, or at once for this very question
        answers.planned_for(cache_key)
        if hit is not None:
            self.fresh.discard(cache_key)
            return hit
        return answers.put(cache_key, self.planner(*self._asked(pos, usable)), self.numbers)

    def prefetch(self, questions: Iterable[tuple[int, Iterable[Candidate]]], keyed: Iterable[Keyed] = ()) -> None:
        """Plan at once (plan_many) the questions (and ``keyed`` ones) not answered yet: cost_with finds them."""
        if self.plan_many is None:
            return
        todo: dict[tuple[int, ...], Question] = {}
        for pos, cache_key, usable in itertools.chain(keyed, (self.keyed(p, c) for p, c in questions)):
            if cache_key not in self.cache and cache_key not in todo and not self.answers.wider(cache_key):
                todo[cache_key] = self._asked(pos, usable)
        if len(todo) < 2:   # one question is asked as it comes
            return
        for cache_key, answer in zip(todo, self.plan_many(list(todo.values())), strict=True):
            self.answers.put(cache_key, answer, self.numbers)
            self.fresh.add(cache_key)

    def prune(self, chosen: list[Candidate]) -> list[Candidate]:
        """``chosen`` without the indexes the rest of it serves as well, dropped one at a time.

        A greedy set can hold an index a later step made useless: ``videos
        ("createdAt")`` for the newest feed, then ``videos (status, "createdAt"
        DESC, id)`` for a queue, which serves the feed too. An index goes when,
        without it, no statement loses more than MIN_GAIN of its cost with no
        new index and the workload less than MIN_STEP_SHARE (what a step must
        gain to be taken); the one whose loss is smallest goes first.
        """
        kept = list(chosen)
        while len(kept) > 1:
            best: tuple[float, tuple[object, ...], Candidate] | None = None
            on_table: dict[TableKey, list[Candidate]] = {}
            for c in kept:
                on_table.setdefault(c.table, []).append(c)
            # An index's loss depends only on the indexes kept on the tables of the statements it can serve:
            # where they are the same objects in the same order as when last worked out, it is the same.
            ids = {t: tuple(map(id, cs)) for t, cs in on_table.items()}     # once a table, not once an index on it
            sign = {id(cand): self._loss_sign(cand, ids) for cand in kept}
            known = {id(cand) for cand in kept if self.losses.get(id(cand), (None, None))[0] == sign[id(cand)]}
            # Most indexes are kept at their first statement: that one's questions are planned at once.
            self.prefetch(q for cand in kept if id(cand) not in known
                          for pos, without, with_it in self._loss_questions(cand, on_table, True)
                          for q in ((pos, without), (pos, with_it)))
            for cand in kept:
                if id(cand) in known:
                    loss = self.losses[id(cand)][1]
                else:
                    loss = self._loss(cand, on_table)
                    self.losses[id(cand)] = (sign[id(cand)], loss)
                if loss is not None and (best is None or (loss, order(ident(cand))) < best[:2]):
                    best = (loss, order(ident(cand)), cand)
            if best is None:
                break
            kept = [c for c in kept if c is not best[2]]
        return kept

    def _loss_sign(self, cand: Candidate, ids: dict[TableKey, tuple[int, ...]]) -> tuple[object, ...]:
        """What ``_loss`` of ``cand`` depends on: the kept indexes (by object, in order: ``ids``, per table) on the
        tables of the statements it can serve, ``cand`` itself among them (held in ``losses``: the ids name no
        other)."""
        tables = self.loss_tables.get(id(cand))
        if tables is None:
            found = {t for pos in self.by_table.get(cand.table, []) if self.relevant(pos, cand)
                     for t in self.workload[pos].tables}
            tables = self.loss_tables[id(cand)] = (cand, tuple(sorted(found)))
        return (cand, *(ids.get(t, ()) for t in tables[1]))

    def _loss(self, cand: Candidate, on_table: dict[TableKey, list[Candidate]]) -> float | None:
        """What the workload loses without ``cand`` (calls x cost), or None when that is too much."""
        loss = 0.0
        for pos, without, with_it in self._loss_questions(cand, on_table):
            w = self.workload[pos]
            rise = self.cost_with(pos, without) - self.cost_with(pos, with_it)
            if rise > MIN_GAIN * w.base_cost:
                return None
            loss += w.calls * max(rise, 0.0)
        return loss if loss < MIN_STEP_SHARE * self.result.base_cost else None

    def _loss_questions(self, cand: Candidate, on_table: dict[TableKey, list[Candidate]], first: bool = False,
                        ) -> Iterator[tuple[int, list[Candidate], list[Candidate]]]:
        """Per statement ``cand`` can serve: the kept indexes on its tables without ``cand``, and with it."""
        for pos in self.by_table.get(cand.table, []):
            if not self.relevant(pos, cand):
                continue
            with_it = [c for t in self.workload[pos].tables for c in on_table.get(t, ())]
            yield pos, [c for c in with_it if c is not cand], with_it
            if first:
                return

    # -- actions ------------------------------------------------------------

    def _stamp(self, a: Action) -> tuple[int, ...]:
        return tuple(self.version.get(t, 0) for t in a.tables)

    def _replaced(self, a: Action) -> Candidate | None:
        """The chosen index ``a`` would replace: for a widening the one it widens; for an add, a chosen
        index it does everything of (a statement's shape with the chosen index's keys as prefix, or with
        INCLUDE columns). A full index does not replace a partial one: the partial one is smaller, and the
        planner may still prefer it for the statements it was made for."""
        if a.kind != StepKind.ADD:
            return a.old
        return next((c for c in self.config.get(a.new.table, {}).values()
                     if c.where == a.new.where and serves(a.new.keys, a.new.where, a.new.include, c)), None)

    def _questions(self, a: Action) -> list[Keyed]:
        """What evaluating ``a`` now would ask the planner, worked out once: kept for it till the next step."""
        gone = swaps.gone(self._replaced(a), a.drops)
        if self.useful is not None:
            self.stand_ins.note(a.new, gone, lambda c: (self.known.get(id(c)) or self._know(c))[1])
        found = [self.keyed(p, self._config(p, a.new, gone)) for p in self.by_table.get(a.new.table, [])
                 if self.relevant(p, a.new) or any(self.relevant(p, c) for c in gone)]    # the statements it affects
        self.worked[id(a)] = (a, found)         # the action held: its id names no other
        return found

    def _evaluate(self, a: Action, sized: bool = True) -> Action:
        a.old = self._replaced(a)
        gone = swaps.gone(a.old, a.drops)
        keyed = (self.worked.get(id(a)) or (a, self._questions(a)))[1]
        del self.worked[id(a)]
        affected = [k[0] for k in keyed]
        self.prefetch((), keyed)
        if not a.tables:
            a.tables = tuple(sorted({t for p in affected for t in self.workload[p].tables} | {a.new.table}))
        # An index added (none dropped) leaves every plan before it open to the server, and the planner
        # prices the descents of the built one: a what-if plan that probes it so often that its descent
        # charge (analyze.calibration) makes it dearer is not the plan the statement will run.
        keep = self.current if not gone else None
        a.costs = {k[0]: min(self.cost_with(k[0], (), k), keep[k[0]]) if keep is not None
                   else self.cost_with(k[0], (), k) for k in keyed}
        a.stamp = self._stamp(a)
        a.evaluations += 1
        saving = sum(self.workload[p].calls * (self.current[p] - c) for p, c in a.costs.items())
        a.gain = saving - (self.upkeep(a.new) if a.old is None else 0.0) + sum(map(self.upkeep, a.drops))
        self.result.note_upkeep(a.costs, self.current, saving, a.gain, MIN_GAIN)
        # A size (a key sample) is read for a gain only (ratio): costed to none, an action is not sized (t13).
        a.delta_bytes = self.size(a.new) - sum(map(self.size, gone)) if sized and a.gain > 0 else a.delta_bytes
        regress = any(c > self.workload[p].base_cost * (1 + REGRESSION) + 1e-9 for p, c in a.costs.items())
        big_for_one = any(c <= self.current[p] * (1 - MIN_GAIN) for p, c in a.costs.items())
        a.ok = (not regress and a.gain > 0 and (saving >= MIN_STEP_SHARE * self.result.base_cost or big_for_one
                                                or bool(a.drops)))   # a replace frees bytes: both fall
        if a.ok and a.kind == StepKind.ADD and a.old is None and not a.drops:
            a.ok = self._beside_existing(a, saving)
        return a

    def _earns_bytes(self, a: Action) -> bool:
        """Under MIN_STEP_SHARE, a step for one statement's cut: STEP_BYTES per MIN_STEP_SHARE (docs/selection.md)."""
        saving = sum(self.workload[p].calls * (self.current[p] - c) for p, c in a.costs.items())
        share = MIN_STEP_SHARE * self.result.base_cost
        return saving >= share or bool(a.drops) or saving * STEP_BYTES >= share * a.delta_bytes

    def _beside_existing(self, a: Action, saving: float) -> bool:
        """May add ``a`` stand beside an existing index that leads with its column (analyze.overlap)? Only when
        the table is not written, or when it wins by more; else the advice says why."""
        existing = self.overlaps(a.new) if self.overlaps is not None and self.upkeep(a.new) > 0 else None
        why = existing and overlap.left_out(a.new, existing, a.costs, self.current, saving, self.result.base_cost)
        if why:
            self.result.overlapping[ident(a.new)] = why
        return not why

    def _widenings(self, chosen: Candidate) -> list[Action]:
        """One action per column the statements this index can serve filter, join, sort, group on or read."""
        if len(chosen.keys) >= MAX_WIDTH:
            return []
        served = [self.workload[p] for p in self.by_table.get(chosen.table, []) if self.relevant(p, chosen)]
        return [Action(StepKind.WIDEN, w, chosen) for w in widen.wider(chosen, served, self.widen_columns)]

    def run(self, seeds: list[Candidate]) -> Selection:
        """Greedy steps until none saves enough.

        Lazy: after a step, the actions whose statements read its table are only marked stale, and keep
        their last ratio as an estimate; an action is re-costed when it reaches the top of the queue, and
        taken only when it is still the best once costed with the configuration as it is. A new widening
        waits in the queue with its index's ratio until then.
        """
        unique: dict[Ident, Candidate] = {}
        for c in seeds:
            unique.setdefault(ident(c), c)
        counter = itertools.count()
        heap: list[Queued] = []

        def push(a: Action, ratio: float) -> None:
            if a.id < 0:
                a.id = next(counter)
            # Equal ratios (a schema per tenant; speed.py's like tables) go by the index's keys, then table, not by the
            # workload's order (pg_stat_statements' timings): the same database, the same curve. Rounded: the same
            # costs summed in another order differ in their last bits. (Keys first: ties on other tables for _ahead.)
            o = (self.known.get(id(a.new)) or self._know(a.new))[2]
            heapq.heappush(heap, (-float(f"{ratio:.9g}"), (*o[1:], o[0]), a.id, a.evaluations, a))

        if self.uses is not None:
            self.useful, plans = scout.scout(self.workload, list(unique.values()), self.uses, self.twins)
            self.result.what_if_calls += plans
        first = [Action(StepKind.ADD, c) for c in unique.values()]
        dormant: dict[Ident, list[Action]] = {}     # adds costed to no gain, by the index they would replace
        pool = swaps.Pool(swaps.together(self.workload, self.by_table))
        pool.add(unique.values())
        self.prefetch((), (q for a in first for q in self._questions(a)))
        for a in first:
            self._evaluate(a, sized=False)
        if self.presize is not None:        # one key sample a table, of the seeds costed to a gain only
            self.presize([a.new for a in first if a.gain > 0])
        for a in (a for a in first if a.gain > 0):
            a.delta_bytes = self.size(a.new) - sum(map(self.size, swaps.gone(a.old, a.drops)))
            push(a, a.ratio)
        while heap and len(self.result.steps) < self.max_steps:
            *_, evaluations, best = heapq.heappop(heap)
            if evaluations != best.evaluations or not self._valid(best):
                continue        # re-costed since this entry was pushed, or no longer applicable
            if best.evaluations == 0 or best.stamp != self._stamp(best):
                self._ahead(best, heap)
                self._evaluate(best)     # stale: re-cost, and let it compete again
                if best.gain > 0:
                    push(best, best.ratio)
                elif best.kind == StepKind.ADD and best.old is not None:
                    dormant.setdefault(ident(best.old), []).append(best)
                continue
            if not best.ok or not self._earns_bytes(best):
                continue
            self._take(best)
            for a in self._opened(best, pool, dormant):
                push(a, best.ratio)
        return self.result

    def _ahead(self, best: Action, heap: list[Queued]) -> None:
        """Plan at once the questions of ``best`` and of the stale actions next in the queue: popped one by one,
        each was a round trip of a few plans (10,000 at speed.py's 5,000 statements: 12,028 round trips -> 4,688,
        statements sent -16%). An answer does not depend on when it is asked: the steps are the same."""
        mine = self.worked.get(id(best)) or (best, self._questions(best))
        if self.plan_many is None or all(k[1] in self.cache for k in mine[1]):
            return
        # Only actions no step of another's here can make stale (a step changes its own table's indexes, and the
        # questions of the statements that read it): on TPC-H's few tables most would be planned for nothing.
        asked, stepped, read = [mine[1]], {best.new.table}, self._tables(best, mine[1])
        for *_, n, a in heap[:2 * AHEAD]:     # the heap's first levels: near its top (heapq.nsmallest read it all)
            if n == a.evaluations and a is not best and (a.evaluations == 0 or a.stamp != self._stamp(a)) \
                    and self._valid(a) and _sibling(best, a):
                # Another widening of the index ``best`` widens, not costed yet: its questions are of the same
                # set of indexes as best's, and stay valid unless one of them is taken first.
                asked.append((self.worked.get(id(a)) or (a, self._questions(a)))[1])
            elif n == a.evaluations and a is not best and (a.evaluations == 0 or a.stamp != self._stamp(a)) \
                    and a.new.table not in read and self._valid(a):
                theirs = (self.worked.get(id(a)) or (a, self._questions(a)))[1]
                if stepped.isdisjoint(tables := self._tables(a, theirs)):
                    asked.append(theirs)
                    stepped.add(a.new.table)
                    read |= tables
        self.prefetch((), itertools.chain(*asked))

    def _tables(self, a: Action, keyed: list[Keyed]) -> set[TableKey]:
        """The tables whose indexes ``a``'s questions depend on, and its own: a step on any makes them stale."""
        return {a.new.table, *(t for k in keyed for t in self.workload[k[0]].tables)}

    def _opened(self, best: Action, pool: swaps.Pool, dormant: dict[Ident, list[Action]]) -> list[Action]:
        """The actions step ``best`` opens: its index's widenings, replaces of it and other chosen ones, and
        adds it may make pay again. An index a replace let go may pay beside the wide one (its queue entries
        went when it was chosen); an add costed to no gain as it replaced an index now gone is one more index.
        A replace is tried only where it frees bytes (more bytes for more cost saved is what adds and widenings
        offer): on TPC-DS SF1 the others were 103 of 156 replace costings, 3,000 what-if plans, none taken."""
        out = self._widenings(best.new)
        pool.add(a.new for a in out)
        chosen = list(self.config.get(best.new.table, {}).values())
        wide = [Action(StepKind.REPLACE, w, drops=o) for w, o in pool.replacements(best.new, chosen)]
        out += [Action(StepKind.ADD, c) for c in best.drops]
        out += [a for c in swaps.gone(best.old, best.drops) for a in dormant.pop(ident(c), [])]
        if self.presize is not None and wide:      # a replace is sized before it is costed (the filter below)
            self.presize([a.new for a in wide])
        return out + [a for a in wide if self.size(a.new) < sum(map(self.size, a.drops))]

    def _valid(self, a: Action) -> bool:
        """Still applicable: its index is not chosen yet, and the index it widens still is.

        An index a chosen one already serves (its prefix) is redundant, as a
        DBA would call it, even where the planner finds the narrower scan cheaper.
        """
        chosen = self.config.get(a.new.table, {})
        if ident(a.new) in chosen:
            return False
        if any(c.where == a.new.where and serves(c.keys, c.where, c.include, a.new) for c in chosen.values()):
            return False
        return all(ident(c) in chosen for c in a.drops) and (
            a.kind == StepKind.ADD or a.old is None or ident(a.old) in chosen)

    def _take(self, a: Action) -> None:
        t = a.new.table     # the questions worked out with its indexes before this step go (_ahead's others stay)
        self.worked = {i: w for i, w in self.worked.items()
                       if w[0].new.table != t and not any(t in self.workload[k[0]].tables for k in w[1])}
        chosen = self.config.setdefault(a.new.table, {})
        for old in swaps.gone(a.old, a.drops):
            if ident(old) in chosen:
                del chosen[ident(old)]
                self.forecast_total -= self.forecast(old)
                self.hypopg_total -= self.hypopg_size(old)
        chosen[ident(a.new)] = a.new
        self.forecast_total += self.forecast(a.new)
        self.hypopg_total += self.hypopg_size(a.new)
        self.version[a.new.table] = self.version.get(a.new.table, 0) + 1
        for p, c in a.costs.items():
            self.total += self.workload[p].calls * (c - self.current[p])
            self.current[p] = c
        self.result.steps.append(Step(
            kind=StepKind.REPLACE if a.drops else StepKind.WIDEN if a.old is not None else StepKind.ADD,
            index=a.new, replaces=a.old or (a.drops[0] if a.drops else None), also=a.drops[1:],
            forecast_bytes=self.forecast_total, hypopg_bytes=self.hypopg_total, cost=self.total))


def _sibling(best: Action, a: Action) -> bool:
    """Are ``best`` and ``a`` widenings of the same chosen index, neither costed yet?"""
    return (best.kind == a.kind == StepKind.WIDEN and best.old is not None and a.old is best.old
            and best.evaluations == a.evaluations == 0 and not a.drops and not best.drops)
