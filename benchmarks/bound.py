"""The best any set of a pool of indexes can do within a size budget: branch and bound.

A reference for index selection, not part of pgtune: it tells whether a
target is out of reach of every choice from the pool, or how far a
selection's answer is from the best one.

The bound comes from the planner itself: adding an index never makes the
cheapest plan dearer (the planner keeps the old plan when the new index does
not help). So the cost with every index chosen so far plus every undecided
index that still fits on its own is no higher than the cost of any set that
completes the choice, and a branch whose bound is no better than the best set
found is cut.

The premise is not exact: the planner keeps a path only when it is more than
1% cheaper than another (its fuzz factor), so one more index can leave a plan
a little dearer. ``slack`` cuts a branch only when its bound is that much
above the best set found; ``Search.violations`` counts the sets that came out
cheaper than their branch's bound, and ``Search.worst`` the largest such
shortfall, so a reader sees whether the slack covered it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass
class Search:
    best_cost: float
    best: frozenset[str] = frozenset()
    best_size: float = 0.0
    nodes: int = 0          # branches bounded (each is one costing of a set)
    violations: int = 0     # sets found cheaper than their branch's bound (the planner's fuzz)
    worst: float = 0.0      # the largest such shortfall, relative to the bound


def best_within(sizes: dict[str, float], budget: float, cost: Callable[[frozenset[str]], float],
                start: float = float("inf"), slack: float = 0.0) -> Search:
    """The cheapest subset of ``sizes``' indexes whose sizes add up to at most ``budget``.

    ``cost`` prices a set (lower is better) and must not rise when an index
    is added. Indexes are decided largest first, so the few large ones that
    decide the cost are branched on near the root. ``start`` is a cost to
    beat; with the default the search proves the optimum (for a cost that
    never rises; ``slack``: a rise by up to that share is allowed for).
    """
    order = sorted((n for n in sizes if sizes[n] <= budget), key=lambda n: (-sizes[n], n))
    search = Search(best_cost=start)

    def visit(i: int, chosen: frozenset[str], used: float, parent_bound: float) -> None:
        fits = [n for n in order[i:] if sizes[n] <= budget - used]
        search.nodes += 1
        bound = cost(chosen | frozenset(fits))
        if bound < parent_bound - 1e-9 * max(1.0, abs(parent_bound)):
            search.violations += 1      # fewer indexes planned cheaper than more: the planner's fuzz
            search.worst = max(search.worst, (parent_bound - bound) / parent_bound)
        if bound * (1 - slack) >= search.best_cost:
            return
        if not fits:
            if bound < search.best_cost:
                search.best_cost, search.best, search.best_size = bound, chosen, used
            return
        first = fits[0]
        rest = order.index(first) + 1
        visit(rest, chosen | {first}, used + sizes[first], bound)
        visit(rest, chosen, used, bound)

    visit(0, frozenset(), 0.0, float("-inf"))
    return search


def brute_force(sizes: dict[str, float], budget: float,
                cost: Callable[[frozenset[str]], float]) -> tuple[float, frozenset[str]]:
    """Every subset within the budget (for small pools and for checking ``best_within``)."""
    pool = sorted(sizes)
    best: tuple[float, frozenset[str]] = (float("inf"), frozenset())
    for mask in range(1 << len(pool)):
        chosen = frozenset(n for k, n in enumerate(pool) if mask >> k & 1)
        if sum(sizes[n] for n in chosen) <= budget:
            best = min(best, (cost(chosen), chosen), key=lambda b: b[0])
    return best


@dataclass
class Climb:
    cost: float
    chosen: frozenset[str]
    size: float
    steps: int = 0          # improving moves taken
    tried: int = 0          # sets costed


def improve(sizes: dict[str, float], budget: float, cost: Callable[[frozenset[str]], float],
            start: frozenset[str], on_step: Callable[[Climb], None] | None = None) -> Climb:
    """Local search from ``start``: take any move that lowers the cost, until none does.

    For pools too large for ``best_within`` (pairs and covering indexes on every
    table): it proves nothing, but a set that no move improves is a local
    optimum, so a target it cannot reach from the branch and bound's answer is
    out of reach of every set one or two swaps away. The moves: add an index,
    drop one, swap one in for one out, and swap one in for two out (a wide
    index may replace two narrow ones). No move is tried that breaks the budget.
    ``on_step`` sees the set after each move taken (the search can run for minutes).
    """
    pool = sorted(n for n in sizes if sizes[n] <= budget)
    chosen = frozenset(start)
    here = cost(chosen)
    climb = Climb(cost=here, chosen=chosen, size=sum(sizes[n] for n in chosen))

    def moves(current: frozenset[str]) -> Iterator[frozenset[str]]:
        """The neighbours of ``current`` one at a time: a round usually ends at the first that helps,
        and a list of them all took gigabytes with a wide pool."""
        used = sum(sizes[n] for n in current)
        members = sorted(current)
        yield from (current - {r} for r in members)
        for a in pool:
            if a in current:
                continue
            if used + sizes[a] <= budget:
                yield current | {a}
            yield from ((current - {r}) | {a} for r in members if used - sizes[r] + sizes[a] <= budget)
            yield from ((current - {r1, r2}) | {a} for k, r1 in enumerate(members) for r2 in members[k + 1:]
                        if used - sizes[r1] - sizes[r2] + sizes[a] <= budget and used + sizes[a] > budget)

    improved = True
    while improved:
        improved = False
        for candidate in moves(chosen):
            climb.tried += 1
            c = cost(candidate)
            if c < here - 1e-9 * max(1.0, abs(here)):
                chosen, here, improved = candidate, c, True
                climb.steps += 1
                climb.cost, climb.chosen, climb.size = here, chosen, sum(sizes[n] for n in chosen)
                if on_step is not None:
                    on_step(climb)
                break
    climb.cost, climb.chosen, climb.size = here, chosen, sum(sizes[n] for n in chosen)
    return climb


def best_with_small_free(sizes: dict[str, float], budget: float, cost: Callable[[frozenset[str]], float],
                         start: float, small: float = 2.0) -> Search:
    """``best_within`` in two levels, for a pool of many small indexes beside the large ones (built TPC-H: 31
    of 83 under 2 MB, 15.6 MB in all), where branching on each small one multiplies the tree.

    The large indexes are branched on with every small one in the bound (the
    same premise: one more index never makes the plan dearer, so the set with
    all the small ones bounds every set with some); a branch that fills the
    budget with large ones is then solved exactly over the small ones in what
    they leave (``best_within``). Only sets cheaper than ``start`` are sought,
    and each one found lowers the line: with ``start`` a target, an empty
    answer says no set reaches it (up to the planner's fuzz: ``violations``).
    """
    free = {n: s for n, s in sizes.items() if s < small}
    big = sorted((n for n in sizes if sizes[n] >= small and sizes[n] <= budget), key=lambda n: (-sizes[n], n))
    search = Search(best_cost=start)

    def visit(chosen: frozenset[str], undecided: list[str], left: float) -> None:
        fits = [n for n in undecided if sizes[n] <= left]
        search.nodes += 1
        if cost(chosen | frozenset(fits) | frozenset(free)) >= search.best_cost:
            return
        if fits:
            visit(chosen | {fits[0]}, fits[1:], left - sizes[fits[0]])
            visit(chosen, fits[1:], left)
            return
        leaf = best_within(free, left, lambda s: cost(chosen | s), start=search.best_cost)
        search.nodes += leaf.nodes
        search.violations += leaf.violations
        search.worst = max(search.worst, leaf.worst)
        if leaf.best_cost < search.best_cost:
            search.best_cost, search.best = leaf.best_cost, chosen | leaf.best
            search.best_size = sum(sizes[n] for n in search.best)

    visit(frozenset(), big, budget)
    return search


def optimum_from(sizes: dict[str, float], budget: float, cost: Callable[[frozenset[str]], float], line: float,
                 step: float, small: float = 2.0) -> tuple[Search, float | None]:
    """The cheapest set within ``budget`` (``best_with_small_free``'s answer), found by raising a line from
    ``line`` by ``step`` until some set is cheaper: a low line cuts nearly every branch at once (TPC-H's pool
    without the fixed-window partials: 55 sets costed to show none reaches 45.5%), where a search with no line
    to beat costs every branch down to its leaves. Returns the search that found it and the last line no set
    was under (None: some set was under the first)."""
    cleared: float | None = None
    while True:
        found = best_with_small_free(sizes, budget, cost, start=line, small=small)
        if found.best_cost < line or line > cost(frozenset()):
            return found, cleared
        cleared, line = line, line + step
