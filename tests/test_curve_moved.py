"""The curve's questions of set after set look only at the statements whose indexes changed (curve.Near.moved):
every statement's list looked at for each of the curve's sets (83 at 4,500 steps, benchmarks/speed.py's 5,000
statements) was 5% of py-spy's samples of suggest under load (issue 28, 5,000 statements in 20 s)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from .test_pool import _shop


class _Looked(list[Any]):
    """A Near's lists, counting the statements looked at (by position or in a pass over them all)."""

    looked = 0

    def __getitem__(self, pos: Any) -> Any:
        _Looked.looked += 1
        return super().__getitem__(pos)

    def __iter__(self) -> Any:
        for x in super().__iter__():
            _Looked.looked += 1
            yield x


@pytest.mark.needs_hypopg
def test_the_curves_questions_look_at_the_statements_a_set_changed(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from pgtune import api
    from pgtune.analyze import Options, curve

    statements = _shop(conn, 20)     # the speed benchmark's ten shapes a table, all pages visible
    sets: list[int] = []
    real_near, real_ask = curve.Near.__call__, curve._ask_without_each

    def near(self: curve.Near, kept: list[Any]) -> list[list[Any]]:
        return _Looked(real_near(self, kept))

    def ask(greedy: Any, kept: list[Any], *rest: Any, **named: Any) -> None:
        if isinstance(named.get("near_of"), curve.Near):      # points': every step's set at once
            sets.append(len(kept))
            _Looked.looked = 0
            real_ask(greedy, kept, *rest, **named)
            sets.append(_Looked.looked)
        else:
            real_ask(greedy, kept, *rest, **named)

    monkeypatch.setattr(curve.Near, "__call__", near)
    monkeypatch.setattr(curve, "_ask_without_each", ask)
    advice = api.suggest(conn, api.SuggestOptions(Options(min_rows=1000, jobs=1), constraints=False),
                         statements=statements).indexes
    assert advice.indexes and sets
    count, looked = sets
    assert count >= 20, sets
    # Each step adds or widens one index, on one table of 20 (10 statements each, some read two tables): a set
    # changes a few tens of statements' lists (1,896 for 71 sets), where all 200 were looked at for each before.
    assert looked * 4 <= 200 * count, (count, looked)
