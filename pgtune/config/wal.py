"""WAL and checkpoints: max_wal_size from the WAL a checkpoint cycle writes, wal_buffers, completion target.

A checkpoint is *requested* when the WAL written since the last one reaches
about max_wal_size / (1 + checkpoint_completion_target) (the WAL
configuration chapter of the PostgreSQL documentation); checkpoints should be
*timed* instead (checkpoint_timeout), so that each dirty page is written once
per cycle and full-page images are fewer. pgtune sizes max_wal_size to hold
the WAL of one checkpoint_timeout at the rate it measured (the whole period's
WAL when the period is shorter than a cycle: a burst), times
(1 + checkpoint_completion_target), with a quarter more as margin, rounded up
to a power of two MB, and at most half the free space where the data lives.
"""

from __future__ import annotations

from .context import Context
from .model import Family, Symptom
from .units import MB, human, round_up_mb, size

MARGIN = 1.25
MIN_BUFFERS_FULL = 100       # backends found the WAL buffers full this many times: they are too small


ONE_OFF_SHARE = 0.5          # of the statements' WAL: above it the window's WAL is a load's or a build's
SEEN_SHARE = 0.5             # of the server's WAL: below it, what wrote the window's WAL is mostly out of sight


def propose(ctx: Context) -> None:
    _checkpoint_timeout(ctx)
    steady = _steady(ctx)
    if steady:
        _max_wal_size(ctx)
    _completion_target(ctx)
    if steady:
        _wal_buffers(ctx)


def _steady(ctx: Context) -> bool:
    """Is the window's WAL the application's own? Not when loads and index builds wrote most of it (u2's R7),
    nor when the statements pg_stat_statements counts wrote under half of it (u8: a load run before
    pg_stat_statements was reset, under the server's WAL counters, sized max_wal_size 8GB and wal_buffers)."""
    c = ctx.snap.counters
    seen = ctx.snap.workload.wal()
    if c.wal_bytes > 0 and seen < SEEN_SHARE * c.wal_bytes:
        if c.checkpoints_requested >= 1 or c.wal_buffers_full >= MIN_BUFFERS_FULL:
            ctx.notes.append(f"max_wal_size and wal_buffers not sized: the statements pg_stat_statements counts "
                             f"wrote {human(int(seen))} of the {human(c.wal_bytes)} of WAL the server wrote in the "
                             f"window ({seen / c.wal_bytes:.0%}): the rest was written before its counts began (a "
                             "load or restore before pg_stat_statements_reset()) or by no statement (autovacuum); "
                             "judge a window of normal load (--window)")
        return False
    share, count = ctx.snap.workload.one_off_wal()
    if share < ONE_OFF_SHARE:
        return True
    if c.checkpoints_requested >= 1 or c.wal_buffers_full >= MIN_BUFFERS_FULL:
        ctx.notes.append(f"max_wal_size and wal_buffers not sized: {share:.0%} of the WAL pg_stat_statements "
                         f"counts came from {count} maintenance or one-off statements (index builds, COPY, a load "
                         "run once or twice), not the application's own writes; judge a window of normal load "
                         "(--window)")
    return False


def _max_wal_size(ctx: Context) -> None:
    c = ctx.snap.counters
    current = ctx.bytes("max_wal_size")
    if c.checkpoints_requested < 1 or c.wal_bytes < current // 2:
        return
    raised = ctx.proposed("checkpoint_timeout")
    timeout_s = 900.0 if raised is not None else (ctx.snap.setting("checkpoint_timeout").ms or 300_000) / 1000
    cct = ctx.snap.setting("checkpoint_completion_target").number
    per_cycle = c.wal_bytes * min(1.0, timeout_s / ctx.snap.seconds)
    target = max(current * 2, round_up_mb(per_cycle * (1 + cct) * MARGIN))
    free = ctx.hardware.wal_free_bytes
    if free is not None and target > free // 2:
        target = max(current, (free // 2) // MB * MB)
        ctx.notes.append(f"max_wal_size is held to half the free space of the data directory ({human(free)} free)")
    if target <= current:
        return
    share = c.checkpoints_requested / max(1, c.checkpoints_requested + c.checkpoints_timed)
    p = ctx.server("max_wal_size", size(target), Family.WAL,
                   f"{c.checkpoints_requested} of {c.checkpoints_requested + c.checkpoints_timed} checkpoints "
                   f"({share:.0%}) were requested, not timed: {human(c.wal_bytes)} of WAL in "
                   f"{ctx.snap.seconds:,.0f} s against max_wal_size {human(current)}",
                   f"a checkpoint_timeout's WAL ({human(per_cycle)}) fits before a checkpoint is forced: "
                   "requested checkpoints go to 0 for the same load, fewer full-page images",
                   Symptom.REQUESTED_CHECKPOINTS, checkpoints_requested=c.checkpoints_requested,
                   checkpoints_timed=c.checkpoints_timed, wal_bytes=c.wal_bytes, seconds=round(ctx.snap.seconds, 1),
                   checkpoint_timeout_s=timeout_s, wal_free_bytes=free)
    min_wal = ctx.bytes("min_wal_size")
    if target >= 2048 * MB and ctx.snap.setting("min_wal_size").source == "default" and min_wal < target // 4:
        ctx.server("min_wal_size", size(target // 4), Family.WAL,
                   f"min_wal_size is {human(min_wal)} while max_wal_size goes to {p.value}",
                   "WAL segments are recycled rather than created anew after a burst (a quarter of max_wal_size)")


MIN_FPI_SHARE = 0.2          # full-page images this share of WAL records: checkpoints come too often


def _checkpoint_timeout(ctx: Context) -> None:
    """Each page's first change after a checkpoint writes the whole page to WAL: fewer checkpoints, fewer of those."""
    c = ctx.snap.counters
    timeout_ms = ctx.snap.setting("checkpoint_timeout").ms or 300_000
    if timeout_ms >= 900_000 or c.checkpoints_timed < 3 or c.wal_records == 0:
        return
    share = c.wal_fpi / c.wal_records
    if share < MIN_FPI_SHARE:
        return
    ctx.server("checkpoint_timeout", "15min", Family.WAL,
               f"{c.checkpoints_timed} timed checkpoints in {ctx.snap.seconds:,.0f} s, and {share:.0%} of the WAL "
               f"records were full-page images ({c.wal_fpi:,} of {c.wal_records:,})",
               "a checkpoint every 15 minutes instead of every "
               f"{timeout_ms / 60_000:g}: full-page images fall under {MIN_FPI_SHARE:.0%} of the WAL records, less "
               "WAL; crash recovery may replay up to 15 minutes of WAL", Symptom.FULL_PAGE_IMAGES,
               checkpoints_timed=c.checkpoints_timed, wal_fpi=c.wal_fpi, wal_records=c.wal_records,
               fpi_share=round(share, 3))


def _completion_target(ctx: Context) -> None:
    s = ctx.snap.setting("checkpoint_completion_target")
    if s.number >= 0.9:
        return
    ctx.server("checkpoint_completion_target", "0.9", Family.WAL,
               f"checkpoint_completion_target is {s.shown}: checkpoint writes are squeezed into part of the cycle",
               "checkpoint writes spread over 90% of the cycle (the default since PostgreSQL 14): smoother I/O")


def _wal_buffers(ctx: Context) -> None:
    c = ctx.snap.counters
    s = ctx.snap.setting("wal_buffers")
    current = s.bytes or 0
    if c.wal_buffers_full < MIN_BUFFERS_FULL or current >= 64 * MB:
        return
    ctx.server("wal_buffers", "64MB", Family.WAL,
               f"backends found the WAL buffers ({human(current)}) full {c.wal_buffers_full:,} times and wrote "
               f"WAL themselves ({human(c.wal_bytes)} of WAL, {c.wal_records:,} records)",
               "bursts of WAL wait for the WAL writer, not for a backend's own write: wal_buffers_full drops "
               "(after the restart; pgtune never restarts)", Symptom.WAL_BUFFERS_FULL,
               wal_buffers_full=c.wal_buffers_full, wal_bytes=c.wal_bytes)
