"""The machine's pace at verify: the reference scan ``predicted_ms`` was paced with at emit, timed again now.

baseline_pace turns a target's warm predicted cost into a time at the pace of an index scan on its table timed at
emit (``Target.pace_query``, ``Target.pace_ms``). Under a load that moved since (benchmarks/prisma_style.py at load
6.7: a whole verify run measured every target 2.2-3.9x slower than predicted, 0.02 ms probes and a 3.3 ms range scan
alike), the same scan takes another time now; verify predicts at that pace (TargetResult.predicted_ms_now). Also the
target's own timing at verify (time_or_why), which the scan is timed around.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import psycopg

from .baseline import Measurement, Timed, Untimed, server_message, time_target
from .connect import lost
from .plan import Target
from .readonly import measure

TIMEOUT_MS = 2_000      # the reference scan reads 1,000 rows through an index: a few milliseconds

PACE_MOVED = 1.25   # the reference scan timed at verify this many times slower or faster than at emit: the machine's
                    # pace moved (load), and the predicted time moves with it; within it, the emit-time one holds


T = TypeVar("T")


def pace_now(conn: psycopg.Connection[Any], t: Target, timed: Callable[[], T]) -> tuple[T, float | None]:
    """What ``timed`` (the target's timing) returns, and the reference scan of ``t``'s table (pace_query) timed again
    just before and after it, the faster kept: the time the scan timed at ``t.pace_ms`` at emit takes now; None when
    not taken."""
    if not t.pace_query or not t.pace_ms:
        return timed(), None
    before = _again(conn, t.pace_query)
    out = timed()
    after = _again(conn, t.pace_query)
    found = [x for x in (before, after) if x is not None]
    return out, min(found) if found else None


def at_pace(predicted_ms: float | None, pace_ms: float | None, pace_ms_now: float | None) -> float | None:
    """``predicted_ms`` times how much slower or faster the reference scan ran now than at emit, when that is beyond
    PACE_MOVED (the load moved); else, or without both times, ``predicted_ms``."""
    if predicted_ms is None or not pace_ms or not pace_ms_now or 1 / PACE_MOVED <= pace_ms_now / pace_ms <= PACE_MOVED:
        return predicted_ms
    return predicted_ms * pace_ms_now / pace_ms


def _again(conn: psycopg.Connection[Any], query: str) -> float | None:
    try:
        timing, _ = measure(conn, query, timeout_ms=TIMEOUT_MS)
    except psycopg.Error:       # a statement_timeout, the table gone: no pace now, the emit-time one holds
        if lost(conn):
            raise
        return None
    return timing.ms if timing is not None and not timing.read_blocks else None


def time_or_why(conn: psycopg.Connection[Any], t: Target, *, trust_functions: bool,
                timeout_ms: int) -> tuple[Timed | None, Untimed | None]:
    """``t`` timed now, or why not: a server error while timing is a reason, a lost connection is raised."""
    try:
        return time_target(conn, t, trust_functions=trust_functions, timeout_ms=timeout_ms)
    except psycopg.errors.QueryCanceled:
        return None, Untimed(Measurement.NOT_MEASURED, f"slower than statement_timeout ({timeout_ms} ms)")
    except (psycopg.Error, ValueError) as exc:
        if lost(conn):
            raise
        return None, Untimed(Measurement.NOT_MEASURED, server_message(exc))
