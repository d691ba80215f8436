"""What a budget's leftover takes (curve.fill) must pay for its writes, as a greedy step must (r8's LOW 1).

The greedy takes a step when its saving, less the new index's write upkeep, is
above zero; fill tried a later step with the smaller set a budget emits and
took it when it saved a step's share of the workload, whatever its upkeep.
With the smaller set an index can save less than its writes cost.
"""

from __future__ import annotations

from pgtune.analyze import Candidate, curve
from pgtune.analyze.selection import Greedy, SizeBasis, Workload
from pgtune.ddl import IndexKey

TABLE = ("public", "t")
X, Y, L = (Candidate(TABLE, (IndexKey(col),), 1) for col in ("x", "y", "l"))
# Statement 2 gains from (l) mostly with (y): with (x) alone, (l) saves 30 (a step's share is 24) for 50 of upkeep.
S2 = {frozenset(): 1000.0, frozenset("l"): 940.0, frozenset("x"): 960.0, frozenset("xl"): 930.0,
      frozenset("y"): 1000.0, frozenset("xy"): 960.0, frozenset("yl"): 700.0, frozenset("xyl"): 600.0}


def planner(pos: int, config: list[Candidate]) -> float:
    have = frozenset(c.keys[0].column for c in config)
    if pos == 0:
        return 100.0 if "x" in have else 1000.0
    if pos == 1:
        return 2000.0 if "y" in have else 10000.0
    return S2[have]


def test_the_leftover_of_a_budget_takes_no_index_that_saves_less_than_its_upkeep() -> None:
    every = frozenset({"x", "y", "l"})
    work = [Workload(calls=1, base_cost=base, tables=frozenset({TABLE}), keyable={TABLE: every},
                     touched={TABLE: every}) for base in (1000.0, 10000.0, 1000.0)]
    sizes = {"x": 8192, "y": 100 * 8192, "l": 8192}
    greedy = Greedy(work, planner, forecast=lambda c: sizes[c.keys[0].column],
                    hypopg_size=lambda c: sizes[c.keys[0].column],
                    upkeep=lambda c: 50.0 if c.keys[0].column == "l" else 0.0, widen_columns={})
    result = greedy.run([X, Y, L])
    assert [s.index.keys[0].column for s in result.steps] == ["x", "y", "l"]    # (l) pays with (y): 360 - 50
    budget = 2 * 8192.0         # (x) and one more small index: (y) does not fit, (l) does
    points = curve.points(greedy, result, SizeBasis.FORECAST)
    point = curve.pick(points, budget, None, SizeBasis.FORECAST, greedy.upkeep)
    assert [c.keys[0].column for c in point.chosen] == ["x"]
    chosen = curve.fill(greedy, result, point, budget, None, SizeBasis.FORECAST)
    assert [c.keys[0].column for c in chosen] == ["x"]
