"""A point of the curve that costs as much as an earlier, smaller one is no budget's set (u37).

On a Formbricks-shaped database the greedy replaced ``Response (updated_at)`` and ``("surveyId", updated_at)``
by ``("surveyId", updated_at, created_at DESC)`` for the upkeep it freed, but prune had already left only the
second at the point before: the last point held 22 MB more for 2.2 more cost, and it was the set proposed.
The curve's points are sets priced by the planner already (tests/test_curve_sets.py builds them); here the
choice among the points that fit a budget is given such points directly.
"""

from __future__ import annotations

from pgtune.analyze.candidates import Candidate
from pgtune.analyze.curve import Point, pick
from pgtune.analyze.selection import SizeBasis
from pgtune.ddl import IndexKey

TABLE = ("fb", "Response")
UPDATED = Candidate(TABLE, (IndexKey("updated_at"),), 1)
BY_SURVEY = Candidate(TABLE, (IndexKey("surveyId"), IndexKey("updated_at")), 1)
WIDER = Candidate(TABLE, (IndexKey("surveyId"), IndexKey("updated_at"), IndexKey("created_at", descending=True)), 1)
MB = 1 << 20
FORECAST = SizeBasis.FORECAST


def _point(step: int, chosen: tuple[Candidate, ...], mb: float, cost: float) -> Point:
    return Point(step, chosen, int(mb * MB), int(mb * MB), cost)


def _free(c: Candidate) -> float:
    return 0.0


def test_a_later_point_dearer_and_larger_is_not_taken() -> None:
    start = _point(0, (), 0, 4_605_216.0)
    six = _point(6, (BY_SURVEY,), 380.7, 1_105_365.28)
    seven = _point(7, (WIDER,), 402.6, 1_105_367.48)
    assert pick([start, six, seven], None, None, FORECAST, _free) is six
    assert pick([start, six, seven], 500 * MB, None, FORECAST, _free) is six
    assert pick([start, six, seven], 390 * MB, None, FORECAST, _free) is six


def test_the_upkeep_counts_as_the_greedy_counts_it() -> None:
    """Cheaper to read by less than the upkeep of the index it adds: not taken; by more: taken."""
    start = _point(0, (), 0, 1000.0)
    one = _point(1, (BY_SURVEY,), 100, 600.0)
    two = _point(2, (BY_SURVEY, UPDATED), 150, 550.0)
    upkeep = {"surveyId": 20.0, "updated_at": 60.0}

    def of(c: Candidate) -> float:
        return upkeep[c.keys[0].column]
    assert pick([start, one, two], None, None, FORECAST, of) is one
    upkeep["updated_at"] = 40.0
    assert pick([start, one, two], None, None, FORECAST, of) is two


def test_the_last_point_within_the_budget_as_before() -> None:
    start = _point(0, (), 0, 1000.0)
    one = _point(1, (BY_SURVEY,), 100, 600.0)
    two = _point(2, (BY_SURVEY, UPDATED), 150, 550.0)
    assert pick([start, one, two], 120 * MB, None, FORECAST, _free) is one
    assert pick([start, one, two], 200 * MB, None, FORECAST, _free) is two
    assert pick([start, one, two], 200 * MB, 1, FORECAST, _free) is one
