"""Replace steps (analyze.swaps): one index in place of two chosen ones, and what a dropped index reopens.

TPC-H's case in small: a partial ``(s) WHERE d2 > d1`` serves one statement, a
full ``(p)`` a join on ``(s, p)`` in part; the full ``(s, p)`` serves both for
fewer bytes than the two. The greedy took the narrow ones one at a time, and
the wide one added beside them saved nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from pgtune.analyze import Candidate
from pgtune.analyze.selection import Greedy, Selection, StepKind, Workload
from pgtune.ddl import IndexKey

TABLE = ("public", "t")
UNIT = 8192 * 10


def name(c: Candidate) -> str:
    return ",".join(k.column for k in c.keys) + (" partial" if c.where else "")


def planner_of(costs: list[dict[str, float]]) -> Callable[[int, list[Candidate]], float]:
    """Statement ``pos``'s cost: the least of what each index present gives it alone (100 with none)."""
    def planner(pos: int, config: list[Candidate]) -> float:
        return min([100.0, *(costs[pos].get(name(c), 100.0) for c in config)])
    return planner


def work(*keyable: str) -> list[Workload]:
    return [Workload(calls=1, base_cost=100.0, tables=frozenset({TABLE}), keyable={TABLE: frozenset(k.split(","))},
                     touched={TABLE: frozenset("spabcd")}) for k in keyable]


def test_two_narrow_indexes_give_way_to_one_that_serves_both_for_fewer_bytes() -> None:
    partial = Candidate(TABLE, (IndexKey("s"),), 1, where="d2 > d1", where_fraction=0.6)
    full = Candidate(TABLE, (IndexKey("p"),), 1)
    # Statement 0 looks up s (the partial's); statement 1 joins on s and p.
    costs = [{"s partial": 20.0, "s,p": 20.0}, {"p": 60.0, "s,p": 30.0}]
    sizes = {"s partial": 25 * UNIT, "p": 44 * UNIT, "s,p": 59 * UNIT}
    result = Greedy(work("s", "s,p"), planner_of(costs), forecast=lambda c: sizes.get(name(c), 40 * UNIT),
                    hypopg_size=lambda c: sizes.get(name(c), 40 * UNIT), upkeep=lambda c: 0.0,
                    widen_columns={}).run([partial, full])
    assert [(s.kind, name(s.index)) for s in result.steps] == [
        (StepKind.ADD, "s partial"), (StepKind.ADD, "p"), (StepKind.REPLACE, "s,p")]
    last = result.steps[-1]
    assert last.replaces is partial and last.also == (full,)
    assert last.forecast_bytes == 59 * UNIT < result.steps[-2].forecast_bytes
    assert last.cost == 20.0 + 30.0 < result.steps[-2].cost
    assert [name(c) for c in Selection.configuration(result.steps)] == ["s,p"]
    # A replace counts as one index in place of two.
    assert len(result.prefix(max_indexes=1)) == 1


def test_an_add_that_would_have_replaced_a_widened_index_is_costed_again_as_an_add() -> None:
    """(a, b) first would replace (a), whose statement 0 it serves dearly: no gain, left out of the queue. Once
    (a) is widened to (a, c), (a, b) is one more index and pays for statement 1."""
    a = Candidate(TABLE, (IndexKey("a"),), 1)
    ab = Candidate(TABLE, (IndexKey("a"), IndexKey("b")), 1)
    costs = [{"a": 50.0, "a,c": 10.0, "a,b": 85.0}, {"a": 50.0, "a,b": 20.0, "a,c": 50.0}]
    sizes = {"a": 10 * UNIT, "a,b": 20 * UNIT, "a,c": 20 * UNIT}   # (a, b) is costed before the widening is taken
    result = Greedy(work("a,c", "a,b"), planner_of(costs), forecast=lambda c: sizes.get(name(c), 40 * UNIT),
                    hypopg_size=lambda c: sizes.get(name(c), 40 * UNIT), upkeep=lambda c: 0.0,
                    widen_columns={TABLE: [IndexKey("c")]}).run([a, ab])
    assert [(s.kind, name(s.index)) for s in result.steps] == [
        (StepKind.ADD, "a"), (StepKind.WIDEN, "a,c"), (StepKind.ADD, "a,b")]
    assert result.steps[-1].cost == 10.0 + 20.0
