"""The knee of the size/cost curve is a step worth stopping at, never "build nothing" (u's F13: step 0 was named the
knee, with --max-index-mb 0, beside a set that cut the workload's cost by 73%)."""

from __future__ import annotations

from pgtune.analyze import Advice, CurvePoint, Method, StepKind


def _curve(*points: tuple[int, float]) -> Advice:
    advice = Advice(Method.HYPOPG)
    for step, (size, cost) in enumerate(points):
        advice.curve.append(CurvePoint(step, StepKind.NONE if step == 0 else StepKind.ADD, None if step == 0 else
                                       f"i{step}", None, size, size, cost, True))
    return advice


def test_a_step_above_the_line_is_the_knee() -> None:
    knee = _curve((0, 100.0), (1_000_000, 30.0), (10_000_000, 25.0)).knee
    assert knee is not None and knee.step == 1


def test_no_step_above_the_line_means_no_knee() -> None:
    assert _curve((0, 100.0), (9_000_000, 90.0), (10_000_000, 27.0)).knee is None


def test_two_points_have_no_knee() -> None:
    assert _curve((0, 100.0), (1_000_000, 27.0)).knee is None
