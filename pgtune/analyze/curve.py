"""The size/cost curve as the sets a budget emits (u3's R6).

The greedy steps build a configuration, but what a budget emits is that
configuration after two passes: prune (an index the rest serves as well
goes) and the final plans (an index no statement is credited with goes, as
costing.settle credits it). The curve showed the steps' running totals, so
the chosen step counted an index a pass had removed, and a budget's set was
not always a prefix of a larger one's. Here each step's point is the set
those passes leave of the steps up to it, sized and costed as that set; a
point a later one fits inside (no more bytes) is one no budget emits, and
is left off. A budget takes the last point that fits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .candidates import Candidate, kept_unused
from .costing import MIN_GAIN
from .selection import Greedy, Selection, SizeBasis, ident


@dataclass(frozen=True)
class Point:
    step: int                        # the greedy step the set comes from (0: no new index)
    chosen: tuple[Candidate, ...]    # the set a budget of its size emits
    forecast_bytes: int
    hypopg_bytes: int
    cost: float                      # Σ calls x cost of the costed statements with exactly that set

    def bytes(self, basis: SizeBasis) -> int:
        return self.hypopg_bytes if basis == SizeBasis.HYPOPG else self.forecast_bytes


def points(greedy: Greedy, result: Selection, basis: SizeBasis) -> list[Point]:
    """Per step, the set a budget of its size emits; the start first, dominated points left off."""
    out = [Point(0, (), 0, 0, result.base_cost)]
    configs = [Selection.configuration(result.steps[:n]) for n in range(1, len(result.steps) + 1)]
    _ask_without_each(greedy, configs)      # prune's first questions of every step, many to a round trip
    for n, config in enumerate(configs, start=1):
        kept = credited(greedy, greedy.prune(config))
        out.append(Point(n, tuple(kept), sum(greedy.forecast(c) for c in kept),
                         sum(greedy.hypopg_size(c) for c in kept), cost(greedy, kept)))
    seen: set[frozenset[object]] = set()
    first = []      # a step the passes undo leaves the set an earlier step left: that point stands for it
    for p in out:
        key = frozenset(ident(c) for c in p.chosen)
        if key not in seen:
            seen.add(key)
            first.append(p)
    undominated: list[Point] = []
    for p in reversed(first):
        if not undominated or p.bytes(basis) < undominated[-1].bytes(basis):
            undominated.append(p)
    return undominated[::-1]


def _ask_without_each(greedy: Greedy, sets: list[list[Candidate]]) -> None:
    """Plan at once, for every statement an index of each set can change, the set with and without it."""
    greedy.prefetch((pos, [k for k in kept if k is not gone])
                    for kept in sets for pos in range(len(greedy.workload))
                    for mine in [[c for c in kept if greedy.relevant(pos, c)]] if mine
                    for gone in [None, *mine])


def pick(curve: list[Point], budget: float | None, max_indexes: int | None, basis: SizeBasis) -> Point:
    """The last point within the budget (bytes) and ``max_indexes``; the start always fits."""
    fits = [p for p in curve if (budget is None or p.bytes(basis) <= budget)
            and (max_indexes is None or len(p.chosen) <= max_indexes)]
    return fits[-1] if fits else curve[0]


def cost(greedy: Greedy, kept: Iterable[Candidate]) -> float:
    """The workload's cost with exactly ``kept``: a statement none of it can change keeps its own, and
    none costs more than with no new index, whose plan stays open once the set is built (a what-if plan
    can look dearer when calibration charges its many probes of a new index: analyze.selection)."""
    kept = list(kept)
    greedy.prefetch((pos, kept) for pos in range(len(greedy.workload))
                    if any(greedy.relevant(pos, c) for c in kept))
    return sum(w.calls * (min(greedy.cost_with(pos, kept), w.base_cost) if any(greedy.relevant(pos, c) for c in kept)
                          else w.base_cost) for pos, w in enumerate(greedy.workload))


def credited(greedy: Greedy, kept: list[Candidate]) -> list[Candidate]:
    """``kept`` without the indexes no statement is credited with, as the final plans credit them: a
    statement made MIN_GAIN cheaper by the set credits each index whose absence would make it dearer."""
    while True:
        mine_of = {pos: [c for c in kept if greedy.relevant(pos, c)] for pos in range(len(greedy.workload))}
        _ask_without_each(greedy, [kept])
        used: set[object] = set()
        for pos, w in enumerate(greedy.workload):
            mine = mine_of[pos]
            if not mine:
                continue
            now = greedy.cost_with(pos, kept)
            if now >= w.base_cost * (1 - MIN_GAIN):
                continue
            used |= {ident(c) for c in mine if greedy.cost_with(pos, [k for k in kept if k is not c]) > now}
        final = [c for c in kept if ident(c) in used or kept_unused(c)]
        if len(final) == len(kept):
            return kept
        kept = final
