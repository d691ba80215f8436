"""What the greedy's what-if plans said: each question's cost, and the candidates its plans used.

A cost alone made two kinds of question cost a plan each that the plans already
asked had answered (issue 28): settle planned each statement with the chosen set
again only to learn which indexes its plan uses, and the curve asked a set less an
index its plan never used (the same plan, so the same answer; at 5,000 statements
over 40% of the curve's plans). An answer here keeps, besides its cost, the
candidates (by ident) its plans use: a question without only unused ones takes its
answer from the question with them (``derive``), and settle takes its final plans'
answers from here (``settled``, through analyze.asking).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from .candidates import Candidate
from .selection_model import Answer, Ident, Said, ident


class Numbering:
    """A number per candidate the planner is asked about: what each hypothetical index made is credited to
    (whatif.Hypothetical.names), read back as the candidate's ident. Numbered on the caller's thread only (the
    pool's sessions read it while none is added)."""

    def __init__(self) -> None:
        self.of: dict[Ident, int] = {}
        self.idents: list[Ident] = []

    def add(self, cands: Iterable[Candidate]) -> None:
        for c in cands:
            key = ident(c)
            if key not in self.of:
                self.of[key] = len(self.idents)
                self.idents.append(key)


# Where settle asks again (costing._charged): the plan with the set less one index its plan uses, when the
# descents charged are more than this share of the cost. Below it the planner's own cost is not held (settle
# reads None: the same as a charge under it).
CHARGED = 0.05

# What an answer's plans used, by number: its uses, every, and unsampled (Said). One object per distinct shape,
# shared by the answers that have it; the common shape, one candidate for all three, is its number itself (a
# frozenset of one is 216 bytes), one set for all three that set. A 4-tuple with the planned cost per answer, and
# its unsampled idents as a frozenset of their own, were 7 of the 12 MB the held answers added at speed.py's 5,000
# statements (20,000: 506 MB peak RSS, over the 500 MB goal).
RECENT = 16     # questions planned per statement that ``wider`` looks among (the newest first)
Held = int | frozenset[int] | tuple[frozenset[int], frozenset[int], frozenset[int]]
NO_NUMBERS: frozenset[int] = frozenset()
Shared = TypeVar("Shared", frozenset[int], tuple[frozenset[int], frozenset[int], frozenset[int]])


class Answers:
    """The cost per question key (selection.Greedy's cache) and, for the plans that use some candidate, what
    they said of it, by the candidates' numbers in the keys (most plans use none: their cost alone is held)."""

    def __init__(self) -> None:
        self.costs: dict[tuple[int, ...], float] = {}
        self.said: dict[tuple[int, ...], Held] = {}
        self.planned: dict[tuple[int, ...], float] = {}   # the planner's own cost, where CHARGED is passed
        self.shapes: dict[Held, Held] = {}      # one object per distinct set or shape held
        self.names: dict[int, Ident] = {}       # the ident of each number held as unsampled (``_stale``)
        self.unnumbered: set[Ident] = set()
        self.derived = 0        # questions answered by ``derive`` or ``wider``, not planned
        self.recent: dict[int, list[tuple[int, ...]]] = {}     # per statement, the last RECENT questions planned
        self.told = True        # every answer so far said what its plans used
        # Are a candidate's keys sampled now (calibration.Pricing.sampled_now)? An answer that used one before
        # they were is not what the same question gets now: it is not taken for another question.
        self.sampled: Callable[[Ident], bool] = lambda key: False

    def put(self, key: tuple[int, ...], answer: Answer, numbers: dict[Ident, int]) -> float:
        """Hold ``answer`` for ``key`` (``numbers``: the keys' number of each candidate); its cost."""
        if not isinstance(answer, Said):
            self.told = False       # a cost alone: what a plan used is not known, nothing is derived
            self.costs[key] = answer
            return answer
        if answer.every or answer.uses:
            every = answer.every | answer.uses
            for i in answer.unsampled:      # one without a number (-1) is checked by each: never missed
                n = numbers.get(i, -1)
                if n >= 0:
                    self.names.setdefault(n, i)
                else:
                    self.unnumbered.add(i)
            held: Held
            if len(every) == 1 and answer.uses == every == answer.unsampled:
                held = numbers.get(next(iter(every)), -1)       # the number object itself: no new object
            else:
                uses, every_n = self._numbered(answer.uses, numbers), self._numbered(every, numbers)
                unsampled = self._numbered(answer.unsampled, numbers)
                held = uses if uses is every_n is unsampled else self._shared((uses, every_n, unsampled))
            self.said[key] = held
            if answer.planned is not None and answer.cost - answer.planned > CHARGED * answer.cost:
                self.planned[key] = answer.planned
            elif self.planned:
                self.planned.pop(key, None)
        self.costs[key] = answer.cost
        return answer.cost

    def unindexed(self, costs: Iterable[tuple[int, float]]) -> None:
        """Each statement's answer with no candidate it could use: its cost as it runs now (``costs``: by the
        statement's key, its twin). No hypothetical index on its tables is its plan as priced before the what-if
        costing (costing.price_many: the same Round, the same text, a plan that uses none is charged nothing), so
        it is not planned again (speed.py's 5,000 statements: 5,000 of 43,500 plans, the curve's sets less a
        statement's only index and replaces that drop every index it could use)."""
        for key, cost in costs:
            self.costs[(key,)] = cost

    def _numbered(self, idents: frozenset[Ident], numbers: dict[Ident, int]) -> frozenset[int]:
        found = frozenset(numbers.get(i, -1) for i in idents)
        return self._shared(found) if found else NO_NUMBERS

    def _shared(self, held: Shared) -> Shared:
        found = self.shapes.setdefault(held, held)
        assert type(found) is type(held)      # a set and a shape are never equal
        return found

    def derive(self, key: tuple[int, ...], parent: tuple[int, ...]) -> bool:
        """Answer ``key``, the question ``parent`` less one candidate, from ``parent``'s answer when none of
        ``parent``'s plans used that one: the planner chose among the same paths less one it did not take. False
        when ``parent`` is not answered (or by a cost alone), is not ``key`` and one more, or its plans used it. An
        answer ``key`` has is replaced (the caller's to say when: one planned ahead and not asked yet, say)."""
        cost = self.costs.get(parent)
        if cost is None or not self.told or len(parent) != len(key) + 1 or key[0] != parent[0]:
            return False
        gone = set(parent[1:]).difference(key[1:])
        if len(gone) != 1:
            return False
        found = self.said.get(parent)
        if found is not None:
            if (found in gone if isinstance(found, int) else gone & _parts(found)[1]) or self._stale(found):
                return False
            self._copy(key, parent, found)
        self.derived += key not in self.costs
        self.costs[key] = cost
        return True

    def planned_for(self, key: tuple[int, ...]) -> None:
        """``key`` was planned (and asked for): ``wider`` may answer a question with fewer candidates from it."""
        found = self.recent.setdefault(key[0], [])
        found.append(key)
        if len(found) > RECENT:
            del found[0]

    def wider(self, key: tuple[int, ...]) -> bool:
        """Answer ``key`` from a question planned with more candidates whose plans used only candidates of ``key``
        (``derive`` over several candidates left out, none of them used): the planner chose among the same paths
        less ones it did not take. A replace that drops indexes a widening's question had beside it, say (300 of
        speed.py's 7,700 plans at 1,000 statements)."""
        if not self.told or len(key) < 2:
            return False
        mine = frozenset(key[1:])
        for wide in reversed(self.recent.get(key[0], ())):
            if len(wide) <= len(key) or not mine.issubset(wide[1:]):
                continue
            held = self.said.get(wide)
            if held is not None and (not _parts(held)[1] <= mine or self._stale(held)):
                continue
            self.costs[key] = self.costs[wide]
            self._copy(key, wide, held)
            self.derived += 1
            return True
        return False

    def _copy(self, key: tuple[int, ...], wide: tuple[int, ...], held: Held | None) -> None:
        if held is not None:
            self.said[key] = held
        planned = self.planned.get(wide)
        if planned is not None:
            self.planned[key] = planned
        else:
            self.planned.pop(key, None)

    def settled(self, key: tuple[int, ...]) -> tuple[float, frozenset[int], float | None] | None:
        """``key``'s cost, the numbers of the candidates its main plan uses, its planned cost where the descents
        charged passed CHARGED (else None; None too when not asked, or answered by a cost alone)."""
        cost = self.costs.get(key)
        if cost is None or not self.told:
            return None
        found = self.said.get(key)
        if found is None:
            return cost, NO_NUMBERS, None
        if self._stale(found):
            return None
        return cost, _parts(found)[0], self.planned.get(key)

    def _stale(self, held: Held) -> bool:
        return self._sampled(held) if isinstance(held, int) else any(map(self._sampled, _parts(held)[2]))

    def _sampled(self, number: int) -> bool:
        """Are the keys of candidate ``number`` (held as unsampled) sampled now?"""
        return self.sampled(self.names[number]) if number >= 0 else any(map(self.sampled, self.unnumbered))


def _parts(held: Held) -> tuple[frozenset[int], frozenset[int], frozenset[int]]:
    """``held``'s uses, every and unsampled."""
    if isinstance(held, int):
        one = frozenset((held,))
        return one, one, one
    return (held, held, held) if isinstance(held, frozenset) else held
