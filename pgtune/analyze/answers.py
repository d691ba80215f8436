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


# An answer's uses and every (by number), planned cost, and unsampled (Said)
Held = tuple[frozenset[int], frozenset[int], float | None, frozenset[Ident]]
NO_NUMBERS: frozenset[int] = frozenset()


class Answers:
    """The cost per question key (selection.Greedy's cache) and, for the plans that use some candidate, what
    they said of it, by the candidates' numbers in the keys (most plans use none: their cost alone is held)."""

    def __init__(self) -> None:
        self.costs: dict[tuple[int, ...], float] = {}
        self.said: dict[tuple[int, ...], Held] = {}
        self.sets: dict[frozenset[int], frozenset[int]] = {}      # one object per distinct set held
        self.idents: dict[frozenset[Ident], frozenset[Ident]] = {}
        self.derived = 0        # questions answered by ``derive``, not planned
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
            uses = self._numbered(answer.uses, numbers)
            unsampled = answer.unsampled and self.idents.setdefault(answer.unsampled, answer.unsampled)
            self.said[key] = (uses, self._numbered(answer.every | answer.uses, numbers), answer.planned, unsampled)
        self.costs[key] = answer.cost
        return answer.cost

    def _numbered(self, idents: frozenset[Ident], numbers: dict[Ident, int]) -> frozenset[int]:
        found = frozenset(numbers.get(i, -1) for i in idents)
        return self.sets.setdefault(found, found) if found else NO_NUMBERS

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
            if gone & found[1] or self._stale(found):
                return False
            self.said[key] = found
        self.derived += key not in self.costs
        self.costs[key] = cost
        return True

    def settled(self, key: tuple[int, ...]) -> tuple[float, frozenset[int], float | None] | None:
        """``key``'s cost, the numbers of the candidates its main plan uses, its planned cost (None: not asked, or
        answered by a cost alone)."""
        cost = self.costs.get(key)
        if cost is None or not self.told:
            return None
        found = self.said.get(key)
        if found is None:
            return cost, NO_NUMBERS, None
        return None if self._stale(found) else (cost, found[0], found[2])

    def _stale(self, held: Held) -> bool:
        return any(map(self.sampled, held[3]))
