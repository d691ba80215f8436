"""The garbage collector during a long run: what a full collection found alive is not traversed by the next ones.

suggest builds a large heap that lives for the whole run (the catalog, each statement's record, shape and tree,
the selection's answers), and CPython traverses all of it at each full collection, one each time the heap grows by
a quarter: at benchmarks/speed.py's 5,000 statements 18 of them took 5.05 s of pgtune's 28.6 s of CPU (issue 28).
Inside ``settled`` the survivors of each full collection are frozen (``gc.freeze``): the next full collections
traverse only what was made since. At its end everything is unfrozen, so a garbage cycle that was alive at a
collection and died later is collected as before, only later; an object without a cycle is freed on its last
reference as always.

The young generations are collected less often inside it too (``YOUNG``): with CPython's default thresholds
(700, 10, 10) benchmarks/speed.py's 5,000 statements made 3,750 young, 340 middle and 30 full collections, 2.6-3.1 s
of pgtune's CPU; with ``YOUNG`` 6 young ones, 0.5 s, for the same advice and the same peak RSS (190 MB): what
suggest makes lives for the run or dies without a cycle, so a collection finds little to free.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_lock = threading.Lock()
_active = 0
_saved: tuple[int, int, int] | None = None
YOUNG = (200_000, 100, 100)    # gc.set_threshold inside ``settled`` (a process's own higher ones are kept)


def _after(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


@contextmanager
def settled() -> Iterator[None]:
    """Freeze the survivors of each full collection until the block ends, then unfreeze them.

    Nothing is done inside another ``settled`` (the outer one unfreezes), when the collector is off, or when the
    process has frozen objects of its own (a server's preloaded modules, say): unfreezing at the end would thaw
    those too."""
    global _active, _saved
    with _lock:
        mine = _active == 0 and gc.isenabled() and gc.get_freeze_count() == 0 and gc.get_threshold()[0] > 0
        if mine:
            gc.callbacks.append(_after)
            _saved = gc.get_threshold()
            gc.set_threshold(*(max(a, b) for a, b in zip(YOUNG, _saved, strict=True)))
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if mine:
                gc.callbacks.remove(_after)
                gc.unfreeze()
                if _saved is not None:
                    gc.set_threshold(*_saved)
