"""Greedy's questions planned ahead (analyze.selection): the next stale actions' questions go with the top one's.

With one session each stale action's few questions took a round trip of their own, pgtune and the server
waiting for each other. ``plan`` sends the top action's questions with those of the next ``Greedy.ahead``
stale ones; an answer is an answer to its own question whatever comes, so the steps are those of the serial
run. (Functions of the Greedy's state, kept apart from its steps; ``self`` is the Greedy: typed Any, as
selection imports this module.)
"""

from __future__ import annotations

import heapq
from typing import Any

from . import swaps
from .selection_model import Action, Keyed, StepKind, ident

GUESSES_JUDGED = 200     # questions planned ahead before it is judged whether planning ahead pays…
GUESSES_RIGHT = 0.8      # …by the share of them asked since


def plan(self: Any, best: Action, heap: list[tuple[float, int, int, Action]]) -> None:
    """Plan ``best``'s questions with those of the next stale actions, in one batch.

    A stale action reads ``best``'s table, or not. If not, its questions do not
    depend on whether ``best`` is taken. If it does, they do: the stale action
    is asked as if ``best`` were taken (once re-costed it mostly is: the
    actions behind it had lower ratios), so an answer planned ahead is the one
    asked for next, where planning with the configuration as it is now was in
    vain whenever ``best`` was taken (12% more plans at speed.py's 5,000). An
    answer is an answer to its own question whatever comes: the steps are
    those of the serial run.

    An action's questions change only with a step: once planned ahead since the last step, they are not
    worked out again (prefetch only fills the cache)."""
    steps = len(self.result.steps)
    questions: list[Keyed] = []
    guesses: list[Keyed] = []
    for a in [best, *_next_stale(self, heap)]:
        if self.asked.get(a.id) == (a.evaluations, steps):
            continue
        if a is best:
            self.asked[a.id] = (a.evaluations, steps)
            questions += (self.worked.get(id(a)) or (a, self._questions(a)))[1]
            continue
        # Its questions as things are, kept for its evaluation (worked out once a step: test_suggest_cpu); those
        # of statements that read ``best``'s table are asked as if ``best`` were taken instead.
        real = (self.worked.get(id(a)) or (a, self._questions(a)))[1]
        if self.asked.get(a.id) != (a.evaluations, steps):
            self.asked[a.id] = (a.evaluations, steps)
            guesses += [k for k in real if best.new.table not in self.workload[k[0]].tables]
        if self.asked.get(-a.id - 1) != (a.evaluations, steps, best.id, best.evaluations):
            self.asked[-a.id - 1] = (a.evaluations, steps, best.id, best.evaluations)
            guesses += _as_if_taken(self, best, a) or ()
    new = {k[1] for k in guesses if k[1] not in self.cache}
    self.prefetch((), questions + guesses)
    new = {k for k in new if k in self.fresh}
    self.guessed |= new
    self.guesses += len(new)
    # Where steps come on the tables every statement reads (TPC-DS's fact tables), an action planned ahead is
    # made stale again before it is asked (31% more EXPLAINs, every one of them the server's work): once most
    # of what was planned ahead went unasked, the rest of the run asks as it comes. Counted by question,
    # never by time, so the same run does the same.
    if self.guesses >= GUESSES_JUDGED and self.guessed_right < GUESSES_RIGHT * self.guesses:
        self.ahead = 0

def _as_if_taken(self: Any, best: Action, a: Action) -> list[Keyed] | None:
    """``a``'s questions were ``best`` taken (None: ``a`` would not be valid then). Worked out with the
    configuration ``best`` would leave for the while (its index in, those it replaces out), kept nowhere:
    the step may not come."""
    chosen = self.config.setdefault(best.new.table, {})
    before = dict(chosen)
    for c in swaps.gone(self._replaced(best), best.drops):
        chosen.pop(ident(c), None)
    chosen[ident(best.new)] = best.new
    try:
        if not self._valid(a):
            return None
        gone = swaps.gone(self._replaced(a) if a.kind == StepKind.ADD else a.old, a.drops)
        if any(c is best.new for c in gone):
            return None     # in its place: the questions as things are, asked already
        def asked() -> list[Keyed]:     # only where a statement reads ``best``'s table: the rest is as things are
            return [self.keyed(p, self._config(p, a.new, gone)) for p in self._affected(a.new, gone)
                    if best.new.table in self.workload[p].tables]
        if self.useful is None:
            return asked()
        held = self.stand_ins.by.get(id(a.new))     # as _questions notes them, and then as they were
        self.stand_ins.note(a.new, gone, lambda c: (self.known.get(id(c)) or self._know(c))[1])
        try:
            return asked()
        finally:
            if held is None:
                self.stand_ins.by.pop(id(a.new), None)
            else:
                self.stand_ins.by[id(a.new)] = held
    finally:
        chosen.clear()
        chosen.update(before)
        if not chosen:
            del self.config[best.new.table]

def _next_stale(self: Any, heap: list[tuple[float, int, int, Action]]) -> list[Action]:
    """The actions after the top of the queue that will be re-costed when they reach it."""
    # The k smallest entries of a binary heap sit in its first k levels: no need to look further.
    top = heapq.nsmallest(self.ahead, heap[:(1 << self.ahead) - 1])
    return [a for _, _, n, a in top if n == a.evaluations and self._valid(a)
            and (a.evaluations == 0 or a.stamp != self._stamp(a))]
