"""suggest's heap and the garbage collector (issue 28, s19): the survivors of each full collection during a run
are frozen, so the next full collections do not traverse the run's long-lived heap again (at benchmarks/speed.py's
5,000 statements 18 full collections were 5.05 s of pgtune's 28.6 s of CPU); everything is unfrozen at its end,
and a garbage cycle that lived through a collection is collected then. The young generations are collected less
often during the run (heap.YOUNG: 3,750 young and 340 middle collections at 5,000 statements were most of the
collector's 2.6-3.1 s), and the process's thresholds are back after it."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import psycopg

from pgtune import api
from pgtune.analyze import Options
from tests.helpers import shop_statements


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_survivors_of_a_full_collection_are_frozen_during_suggest_and_thawed_after(
        conn: psycopg.Connection[Any]) -> None:
    from pgtune import heap

    statements = shop_statements(conn)
    assert gc.get_freeze_count() == 0
    before = gc.get_threshold()
    assert before[0] < heap.YOUNG[0]
    thresholds: list[tuple[int, int, int]] = []
    seen: list[int] = []
    dead: list[weakref.ref[_Cycle]] = []

    def progress(_line: str) -> None:
        if not dead:        # a cycle alive at a full collection, dropped after it
            cycle = _Cycle()
            dead.append(weakref.ref(cycle))
            gc.collect()
            del cycle
        seen.append(gc.get_freeze_count())
        thresholds.append(gc.get_threshold())
    advice = api.suggest(conn, api.SuggestOptions(Options(min_rows=100), constraints=False),
                         statements=statements, progress=progress).indexes
    assert advice.indexes
    assert seen and max(seen) > 0       # the heap a full collection found alive was frozen during the run
    assert gc.get_freeze_count() == 0   # ... and thawed at its end
    assert set(thresholds) == {tuple(max(a, b) for a, b in zip(heap.YOUNG, before, strict=True))}
    assert gc.get_threshold() == before
    gc.collect()
    assert dead[0]() is None            # the cycle frozen while alive is garbage collected after the run

    # A process that froze objects of its own keeps them frozen: suggest leaves the collector as it found it.

    keep = [_Cycle() for _ in range(10)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with heap.settled():
            gc.collect()
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
    del keep
    with heap.settled(), heap.settled():   # nested: the inner one leaves the thaw to the outer one
        gc.collect()
        inner = gc.get_freeze_count()
    assert inner > 0 and gc.get_freeze_count() == 0
