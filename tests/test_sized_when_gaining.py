"""A candidate is key-sampled (Footprint.forecast's sample) only once it is costed to a gain (t13's protoA);
a replacement is sized first, as whether it frees bytes decides if it is costed at all.

Selection reads a candidate's size only through its saving per byte, and only
where the saving is positive; sizing every costed candidate sampled 124
indexes a TPC-H suggest, 70 of them for actions costed to no gain (a key
sample is most of suggest's server time there: 1,477 -> 1,113 ms of server
CPU a 250 MB suggest, the same advice at the eight budgets of the row).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import key_sample, selection, suggest

from .helpers import run
from .test_selection import events, workload


@pytest.mark.needs_hypopg
def test_no_key_sample_of_a_candidate_costed_to_no_gain(conn: psycopg.Connection[Any],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    events(conn)
    workload(conn)
    # kind and note: a candidate (note, kind) none of whose plans gets cheaper (every row matches).
    run(conn, "SELECT count(*) FROM event WHERE note = %s AND kind >= %s", [("x" * 40, 0)], times=3)
    sampled: list[tuple[str, ...]] = []
    gains: dict[tuple[str, ...], float] = {}
    real_sample, real_evaluate = key_sample.sample_keys_many, selection.Greedy._evaluate

    def seen(c: psycopg.Connection[Any], table: Any, specs: list[key_sample.KeySpec], *a: Any,
             **k: Any) -> list[key_sample.KeySample | None]:
        sampled.extend(tuple(key.ident for key in keys) for keys, _include in specs)
        return real_sample(c, table, specs, *a, **k)

    def costed(self: selection.Greedy, a: Any, *args: Any, **kwargs: Any) -> Any:
        out = real_evaluate(self, a, *args, **kwargs)
        keys = tuple(key.ident for key in a.new.keys)
        gains[keys] = max(gains.get(keys, float("-inf")), a.gain)
        return out

    monkeypatch.setattr(key_sample, "sample_keys_many", seen)
    monkeypatch.setattr(selection.Greedy, "_evaluate", costed)
    suggest(conn)
    assert sampled and gains.get(("note", "kind"), 1.0) <= 0, gains     # costed, to no gain
    assert ("note", "kind") not in sampled, sampled
    assert all(gains.get(keys, 1.0) > 0 for keys in sampled if len(keys) == 2), (sampled, gains)
