"""Selection's what-if cache holds one small key a plan: about 100,000 plans at benchmarks/speed.py's 20,000
statements, where a key of a tuple in a tuple was 56 bytes more each; its index shapes are keyed by tuples, not
frozensets (issue 28's memory)."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

import psycopg
import pytest

from tests.helpers import shop_statements

pytestmark = pytest.mark.needs_hypopg


def test_a_plans_cache_key_is_one_flat_tuple(conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from pgtune import api
    from pgtune.analyze import Options, selection

    statements = shop_statements(conn)
    greedy: list[selection.Greedy] = []
    real_run = selection.Greedy.run

    def run(self: selection.Greedy, seeds: list[Any]) -> selection.Selection:
        greedy.append(self)
        return real_run(self, seeds)

    monkeypatch.setattr(selection.Greedy, "run", run)
    advice = api.suggest(conn, api.SuggestOptions(Options(min_rows=100), constraints=False),
                         statements=statements).indexes
    assert advice.indexes and greedy
    keys = list(greedy[0].cache)
    assert len(keys) >= 3
    # The statement and the numbers of the indexes it sees, sorted, in one tuple.
    assert all(all(isinstance(x, int) for x in k) and list(k[1:]) == sorted(k[1:]) for k in keys), keys
    held = sum(sys.getsizeof(k) + sum(sys.getsizeof(x) for x in k if isinstance(x, tuple)) for k in keys)
    assert held / len(keys) <= 72, f"{held / len(keys):.0f} bytes a key"
    # Which statements an index can change, per shape: keyed by its columns sorted in a tuple, not a frozenset
    # (216 bytes each; 3,750 shapes at 1,500 statements).
    shapes = list(greedy[0].reach)
    assert shapes and all(isinstance(k[2], tuple) and list(k[2]) == sorted(k[2]) for k in shapes), shapes
    # Each index's order is worked out once, shared by every candidate object that is that index (a widening is
    # a new object each step).
    first = next(iter(greedy[0].known.values()))
    again = greedy[0]._know(dataclasses.replace(first[0]))
    assert again[3] == first[3] and again[2] is first[2]
