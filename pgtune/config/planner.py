"""Planner and I/O: random_page_cost and effective_io_concurrency by storage, track_io_timing.

random_page_cost 4 models a rotating disk's seek; on SSD or SAN, or when the
data fits in memory, a random read costs about what a sequential one does
(PGTune's 1.1). effective_io_concurrency is how many reads the storage serves
at once (PGTune: 2 for HDD, 200 for SSD, 300 for SAN). track_io_timing
times every block read and write, so pg_stat_statements and EXPLAIN
(BUFFERS) show where time went; its cost is a clock read per I/O, small on
current hardware (pg_test_timing measures it).
"""

from __future__ import annotations

from .context import Context
from .model import Family, Storage

IO_CONCURRENCY = {Storage.HDD: 2, Storage.SSD: 200, Storage.SAN: 300}


def propose(ctx: Context) -> None:
    hw = ctx.hardware
    memory = ctx.memory()
    fits = memory is not None and ctx.snap.database_bytes < memory // 2
    rpc = ctx.snap.setting("random_page_cost").number
    if rpc > 1.1 and (hw.storage in (Storage.SSD, Storage.SAN) or fits):
        why = (f"the data lives on {hw.storage} ({hw.source.get('storage', '')})" if hw.storage in
               (Storage.SSD, Storage.SAN) else f"the data ({ctx.snap.database_bytes:,} bytes) fits in memory")
        ctx.server("random_page_cost", "1.1", Family.PLANNER, f"random_page_cost is {rpc:g}, a rotating disk's; {why}",
                   "index scans are costed as the storage serves them: the planner picks them where they are "
                   "cheaper (PGTune's 1.1)", storage=str(hw.storage) if hw.storage else None,
                   database_bytes=ctx.snap.database_bytes)
    if hw.storage is not None and "effective_io_concurrency" in ctx.snap.settings:
        eic = ctx.snap.setting("effective_io_concurrency").number
        want = IO_CONCURRENCY[hw.storage]
        if eic < want:
            ctx.server("effective_io_concurrency", str(want), Family.PLANNER,
                       f"effective_io_concurrency is {eic:g} on {hw.storage}",
                       "bitmap heap scans (and, from PostgreSQL 18, more reads) prefetch as many blocks as the "
                       f"storage serves at once ({want}, PGTune's value for {hw.storage})", storage=str(hw.storage))
            _io_method_note(ctx, want)
    elif hw.storage is None and hw.source.get("storage", "").startswith("not known"):
        ctx.notes.append("storage not known, so no effective_io_concurrency is proposed"
                         + hw.source["storage"].removeprefix("not known"))
    if ctx.snap.setting("track_io_timing").setting == "off":
        ctx.server("track_io_timing", "on", Family.PLANNER, "track_io_timing is off: no statement's I/O time is known",
                   "pg_stat_statements, pg_stat_database and EXPLAIN (BUFFERS) show read and write times, so the "
                   "next `pgtune config` tells I/O-bound statements apart")


def _io_method_note(ctx: Context, want: int) -> None:
    """PostgreSQL 18 reads ahead asynchronously, through io_method: what effective_io_concurrency then buys
    depends on it and on io_max_concurrency, which no proposal of pgtune's changes (p17: nothing was said
    beside a raise to 200)."""
    if "io_method" not in ctx.snap.settings:
        return
    method = ctx.snap.setting("io_method").shown
    cap = ctx.snap.setting("io_max_concurrency").number if "io_max_concurrency" in ctx.snap.settings else None
    capped = (f"; io_max_concurrency = {cap:g} (a restart) caps each session's reads in flight below it"
              if cap is not None and 0 < cap < want else "")
    if method == "worker":
        workers = ctx.snap.setting("io_workers").shown if "io_workers" in ctx.snap.settings else "3"
        ctx.notes.append(f"effective_io_concurrency {want}: PostgreSQL 18 reads ahead with io_method = worker, "
                         f"its io_workers = {workers} processes issuing the reads; if sessions wait on "
                         "AioIoCompletion (pg_stat_activity) under load, raise io_workers (a reload), or on Linux "
                         f"set io_method = io_uring (a restart; a build with liburing){capped}")
    elif method == "sync":
        ctx.notes.append(f"effective_io_concurrency {want}: io_method = sync: PostgreSQL 18 reads synchronously and "
                         "the setting is only a prefetch hint to the kernel (posix_fadvise), as before 18; "
                         f"io_method = worker (the default) or io_uring reads ahead asynchronously (a restart){capped}")
