"""benchmarks/bound.py: the branch and bound the TPC-H benchmark uses to say what a pool can reach.

Pure search over a set function: no database is involved, so none is started.
"""

import importlib.util
import random
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location("bound", Path(__file__).parent.parent / "benchmarks" / "bound.py")
assert _spec is not None and _spec.loader is not None
bound = importlib.util.module_from_spec(_spec)
sys.modules["bound"] = bound   # dataclasses look their module up while the class is made
_spec.loader.exec_module(bound)


def _instance(seed: int) -> tuple[dict[str, float], object]:
    """A pool and a planner-like cost: each statement takes the cheapest index it can use, or a scan."""
    rng = random.Random(seed)
    names = [f"i{k}" for k in range(rng.randint(3, 10))]
    sizes = {n: float(rng.randint(1, 40)) for n in names}
    statements = [(rng.uniform(50, 100),
                   {n: rng.uniform(1, 90) for n in rng.sample(names, rng.randint(1, min(4, len(names))))})
                  for _ in range(rng.randint(2, 8))]

    def cost(chosen: frozenset[str]) -> float:
        return sum(min([scan, *(c for n, c in using.items() if n in chosen)]) for scan, using in statements)

    return sizes, cost


def test_branch_and_bound_finds_what_trying_every_subset_finds() -> None:
    for seed in range(60):
        sizes, cost = _instance(seed)
        budget = sum(sizes.values()) * random.Random(seed).uniform(0.1, 0.7)
        found = bound.best_within(sizes, budget, cost)
        expected, _ = bound.brute_force(sizes, budget, cost)
        assert abs(found.best_cost - expected) < 1e-9, seed
        assert sum(sizes[n] for n in found.best) <= budget
        assert found.violations == 0
        # Pruning is what makes it usable: fewer costings than subsets on the larger pools.
        if len(sizes) == 10:
            assert found.nodes < 2 ** 10


def test_a_cost_that_rises_with_an_index_is_counted_as_a_violation() -> None:
    sizes = {"a": 1.0, "b": 1.0}
    found = bound.best_within(sizes, 2.0, lambda chosen: 10.0 - len(chosen) + (5.0 if "b" in chosen else 0.0))
    assert found.violations > 0 and found.worst > 0


def test_slack_keeps_a_branch_whose_bound_the_planner_fuzz_may_have_raised() -> None:
    # {b, c} plans a little dearer than {b} alone, as the planner's 1% fuzz allows.
    costs = {frozenset(): 20.0, frozenset("a"): 10.0, frozenset("b"): 9.98, frozenset("c"): 15.0,
             frozenset("bc"): 10.05, frozenset("abc"): 9.0}
    sizes = {"a": 2.0, "b": 1.0, "c": 1.0}
    exact = bound.best_within(sizes, 2.0, costs.__getitem__)
    tolerant = bound.best_within(sizes, 2.0, costs.__getitem__, slack=0.01)
    assert exact.best == frozenset("a")           # cut {b, c} on its bound
    assert tolerant.best == frozenset("b") and tolerant.best_cost == 9.98
    assert tolerant.worst > 0


def test_local_search_ends_where_no_move_helps() -> None:
    for seed in range(40):
        sizes, cost = _instance(seed)
        budget = sum(sizes.values()) * random.Random(seed).uniform(0.1, 0.7)
        climb = bound.improve(sizes, budget, cost, frozenset())
        assert climb.size <= budget and climb.cost <= cost(frozenset())
        assert abs(climb.cost - cost(climb.chosen)) < 1e-9
        # A local optimum: no index added, dropped or swapped for another lowers the cost.
        for a in sizes:
            for r in [None, *climb.chosen]:
                moved = (climb.chosen - {r}) | {a}
                if sum(sizes[n] for n in moved) <= budget:
                    assert cost(moved) >= climb.cost - 1e-9, seed
        # Never worse than the answer it starts from.
        best, chosen = bound.brute_force(sizes, budget, cost)
        assert bound.improve(sizes, budget, cost, chosen).cost == best


def test_local_search_swaps_two_narrow_indexes_for_one_wide() -> None:
    sizes = {"a": 5.0, "b": 5.0, "wide": 10.0}
    costs = {frozenset(): 100.0, frozenset("a"): 70.0, frozenset("b"): 70.0, frozenset("ab"): 50.0}

    def cost(chosen: frozenset[str]) -> float:
        return 40.0 if "wide" in chosen else costs[chosen]

    seen: list[float] = []
    climb = bound.improve(sizes, 10.0, cost, frozenset("ab"), on_step=lambda c: seen.append(c.cost))
    assert climb.chosen == {"wide"} and climb.cost == 40.0 and climb.steps == 1
    assert seen == [40.0]


def test_the_two_level_search_finds_what_trying_every_subset_finds() -> None:
    """The small indexes all in the large ones' bound, then solved exactly in what each branch leaves."""
    for seed in range(60):
        sizes, cost = _instance(seed)
        budget = sum(sizes.values()) * random.Random(seed).uniform(0.1, 0.7)
        found = bound.best_with_small_free(sizes, budget, cost, start=float("inf"), small=15.0)
        expected, _ = bound.brute_force(sizes, budget, cost)
        assert abs(found.best_cost - expected) < 1e-9, seed
        assert sum(sizes[n] for n in found.best) <= budget
        # With the optimum as the line to beat, no set is found: what a target out of reach gives.
        assert not bound.best_with_small_free(sizes, budget, cost, start=expected, small=15.0).best


def test_raising_the_line_finds_the_optimum_and_the_line_nothing_is_under() -> None:
    for seed in range(60):
        sizes, cost = _instance(seed)
        budget = sum(sizes.values()) * random.Random(seed).uniform(0.1, 0.7)
        expected, _ = bound.brute_force(sizes, budget, cost)
        # From far below the optimum, in steps that do not divide the gap: the first line some set is under.
        found, cleared = bound.optimum_from(sizes, budget, cost, line=0.5 * expected, step=0.07 * expected + 1)
        assert abs(found.best_cost - expected) < 1e-9, seed
        assert sum(sizes[n] for n in found.best) <= budget
        assert cleared is not None and cleared <= expected      # no set is under the last line cleared
        assert bound.optimum_from(sizes, budget, cost, line=expected + 1, step=1.0)[1] is None
