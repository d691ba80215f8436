"""What the selection's answers hold per question that said what its plans used (analyze.answers): shared
shapes and no per-answer tuple or planned cost below CHARGED. Since the answers kept what their plans used
(ec22246), benchmarks/speed.py's 20,000 statements peaked at 506 MB RSS (goal 500): per such answer a 4-tuple, a
float and a frozenset of idents of its own (issue 28)."""

from __future__ import annotations

import sys
from typing import Any

import psycopg
import pytest

from .test_pool import _shop


def _ident_like(obj: object) -> bool:
    """A candidate's ident (selection_model.Ident): held by the greedy's numbers whatever the answers hold."""
    return isinstance(obj, tuple) and len(obj) == 4 and isinstance(obj[0], tuple)


def _bytes(obj: object, seen: set[int]) -> int:
    """``obj`` and what it holds, each object once; ints and idents are held elsewhere too (not counted)."""
    if id(obj) in seen or isinstance(obj, (int, bool)) or obj is None or _ident_like(obj):
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, (tuple, frozenset, set, list)):
        size += sum(_bytes(x, seen) for x in obj)
    elif isinstance(obj, dict):
        size += sum(_bytes(k, seen) + _bytes(v, seen) for k, v in obj.items())
    return size


@pytest.mark.needs_hypopg
def test_an_answer_that_said_what_its_plans_used_holds_little_of_its_own(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from pgtune import api
    from pgtune.analyze import Options, curve

    statements = _shop(conn, 20)     # the speed benchmark's ten shapes a table, all pages visible
    held: list[Any] = []
    real = curve.points

    def points(greedy: Any, *rest: Any) -> Any:
        found = real(greedy, *rest)
        held.append(greedy.answers)      # at the curve's end: where the peak was
        return found

    monkeypatch.setattr(curve, "points", points)
    advice = api.suggest(conn, api.SuggestOptions(Options(min_rows=1000, jobs=1), constraints=False),
                         statements=statements).indexes
    assert advice.indexes and held
    answers = held[0]
    said = len(answers.said)
    assert said >= 500, said
    # The keys are the cost cache's (counted there); the rest is what the answers hold besides their costs.
    seen = {id(k) for k in answers.costs}
    total = sum(_bytes(v, seen) for name, v in vars(answers).items() if name not in ("costs", "sampled"))
    # 278 bytes an answer before (a 4-tuple and a planned float each, a frozenset of one number and one of the
    # unsampled idents per candidate used), 64 now.
    assert total / said <= 120, f"{total / said:.0f} bytes an answer ({said} answers)"
