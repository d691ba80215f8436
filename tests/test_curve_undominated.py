"""A point of the curve that costs as much as an earlier, smaller one is no budget's set (u37).

On a Formbricks-shaped database the greedy replaced ``Response (updated_at)`` and ``("surveyId", updated_at)``
by ``("surveyId", updated_at, created_at DESC)`` for the upkeep it freed, but prune had already left only the
second at the point before: the last point held 22 MB more for 2.2 more cost, and it was the set proposed.
The curve's points are sets priced by the planner already (tests/test_curve_sets.py builds them); here the
filter that keeps the points a budget may take is given such points directly.
"""

from __future__ import annotations

from pgtune.analyze.candidates import Candidate
from pgtune.analyze.curve import Point, undominated
from pgtune.analyze.selection import SizeBasis
from pgtune.ddl import IndexKey

TABLE = ("fb", "Response")
UPDATED = Candidate(TABLE, (IndexKey("updated_at"),), 1)
BY_SURVEY = Candidate(TABLE, (IndexKey("surveyId"), IndexKey("updated_at")), 1)
WIDER = Candidate(TABLE, (IndexKey("surveyId"), IndexKey("updated_at"), IndexKey("created_at", descending=True)), 1)
MB = 1 << 20


def _point(step: int, chosen: tuple[Candidate, ...], mb: float, cost: float) -> Point:
    return Point(step, chosen, int(mb * MB), int(mb * MB), cost)


def test_a_later_point_dearer_and_larger_is_left_off() -> None:
    start = _point(0, (), 0, 4_605_216.0)
    six = _point(6, (BY_SURVEY,), 380.7, 1_105_365.28)
    seven = _point(7, (WIDER,), 402.6, 1_105_367.48)
    assert undominated([start, six, seven], SizeBasis.FORECAST, lambda c: 0.0) == [start, six]


def test_the_upkeep_counts_as_the_greedy_counts_it() -> None:
    """Cheaper to read by less than the upkeep of the index it adds: no budget takes it; by more: kept."""
    start = _point(0, (), 0, 1000.0)
    one = _point(1, (BY_SURVEY,), 100, 600.0)
    two = _point(2, (BY_SURVEY, UPDATED), 150, 550.0)
    upkeep = {"surveyId": 20.0, "updated_at": 60.0}

    def of(c: Candidate) -> float:
        return upkeep[c.keys[0].column]
    assert undominated([start, one, two], SizeBasis.FORECAST, of) == [start, one]
    upkeep["updated_at"] = 40.0
    assert undominated([start, one, two], SizeBasis.FORECAST, of) == [start, one, two]


def test_a_point_a_later_one_fits_inside_is_left_off_as_before() -> None:
    start = _point(0, (), 0, 1000.0)
    one = _point(1, (BY_SURVEY, UPDATED), 150, 600.0)
    two = _point(2, (WIDER,), 120, 590.0)      # a replace: fewer bytes, less cost
    assert undominated([start, one, two], SizeBasis.FORECAST, lambda c: 0.0) == [start, two]
