"""Memory: work_mem (workmem.py), shared_buffers, effective_cache_size, maintenance memory.

shared_buffers, effective_cache_size and maintenance_work_mem follow the
PostgreSQL documentation (25% of memory; the page cache a query can count
on) and PGTune's published formulas, sized down to the data when it is
smaller. maintenance_work_mem also carries, as its evidence, the utility
statements that spilled under it (CREATE INDEX, REINDEX, VACUUM, ALTER
TABLE … ADD FOREIGN KEY write temporary files when it is too small): verify
reads their temporary bytes again.
"""

from __future__ import annotations

import re
from typing import Any

from . import workmem
from .context import Context
from .model import Family, Symptom
from .units import GB, MB, human, round_up_mb, size

MAINTENANCE = re.compile(r"^\s*(create\s+(unique\s+)?index|reindex|vacuum|cluster|alter\s+table|"
                         r"refresh\s+materialized)\b", re.IGNORECASE)


def propose(ctx: Context) -> None:
    workmem.propose(ctx)
    _shared_buffers(ctx)
    _effective_cache_size(ctx)
    _maintenance(ctx)


def _shared_buffers(ctx: Context) -> None:
    """A quarter of memory at most; the data with room to grow; and four times the largest table read by
    sequential scans, which PostgreSQL reads through a 256kB ring instead of the cache when the table is
    over a quarter of shared_buffers (src/backend/storage/buffer/README, "Buffer Ring Replacement")."""
    memory = ctx.memory()
    if memory is None:
        return
    shared = ctx.bytes("shared_buffers")
    data = ctx.snap.database_bytes
    scanned = max((t for t in ctx.snap.tables.values() if t.seq_scans > 0 and t.heap_blks_read > 0),
                  key=lambda t: t.bytes, default=None)
    ring = 4 * scanned.bytes if scanned is not None and scanned.bytes * 4 > shared else 0
    target = min(memory // 4, max(128 * MB, round_up_mb(data * 1.25), round_up_mb(ring) if ring else 0))
    ratio = ctx.snap.counters.hit_ratio
    reads = ctx.snap.counters.blks_read
    if target <= shared * 1.5 or (data <= shared and not ring and (ratio is None or ratio >= 0.99)):
        return
    bypass = ""
    if scanned is not None and ring:
        bypass = (f"; {scanned.schema}.{scanned.table} ({human(scanned.bytes)}) is read by sequential scans, which "
                  "bypass a cache under four times its size")
        if ring > target:
            bypass += f", and still will at {size(target)}"
    ctx.server("shared_buffers", size(target), Family.MEMORY,
               f"shared_buffers is {human(shared)} on a server with {human(memory)} for {human(data)} of data"
               + (f"; {reads:,} block reads missed it (hit ratio {ratio:.1%})" if ratio is not None else "") + bypass,
               f"more of the data stays in PostgreSQL's own cache ({size(target)}: 25% of memory, the "
               "documentation's starting point, or the data with room to grow, or four times the largest table "
               "scanned): fewer block reads — after a restart the cache fills once, then hits",
               Symptom.CACHE_MISSES, memory_bytes=memory, database_bytes=data, hit_ratio=ratio, blocks_read=reads,
               largest_scanned_table_bytes=scanned.bytes if scanned is not None else None)


def _effective_cache_size(ctx: Context) -> None:
    memory = ctx.memory()
    if memory is None:
        return
    current = ctx.bytes("effective_cache_size")
    target = memory * 3 // 4
    target = target // GB * GB if target >= 4 * GB else target // MB * MB
    if current and 0.5 <= target / current <= 2:
        return
    ctx.server("effective_cache_size", size(target), Family.MEMORY,
               f"effective_cache_size says {human(current)} of cache, the server has {human(memory)}",
               "the planner costs index scans for the cache there is (75% of memory, PGTune's formula): "
               "no memory is allocated", memory_bytes=memory)


def _maintenance_spills(ctx: Context) -> dict[str, Any]:
    """The maintenance statements that wrote temporary files: the symptom of a small maintenance_work_mem."""
    spilled = [st for st in ctx.snap.statements if MAINTENANCE.match(st.query)
               and workmem.spill_per_call(st) >= workmem.MIN_SPILL_BYTES]
    if not spilled:
        return {}
    top = sorted(spilled, key=lambda s: -s.temp_blks_written)[:3]
    return {"statements": [{"queryid": s.queryid, "query": s.query[:200], "calls": s.calls,
                            "temp_bytes_per_call": int(workmem.spill_per_call(s))} for s in top],
            "temp_bytes": sum(s.temp_blks_written for s in spilled) * 8192,
            "largest_spill_per_call": int(max(workmem.spill_per_call(s) for s in spilled))}


def _maintenance(ctx: Context) -> None:
    memory = ctx.memory()
    if memory is None:
        return
    current = ctx.bytes("maintenance_work_mem")
    largest = max((t.bytes for t in ctx.snap.tables.values()), default=0)
    spills = _maintenance_spills(ctx)
    need = round_up_mb(spills["largest_spill_per_call"] * workmem.SPILL_FACTOR) if spills else 0
    target = min(memory // 16, 1 * GB, max(64 * MB, round_up_mb(largest / 4), need))
    target = (target // MB) * MB
    if target <= current * 1.5 and not (spills and target > current):
        return
    seen = (f"; {len(spills['statements'])} maintenance statement(s) wrote {human(spills['temp_bytes'])} of "
            f"temporary files, up to {human(spills['largest_spill_per_call'])} a call" if spills else "")
    ctx.server("maintenance_work_mem", size(target), Family.MEMORY,
               f"maintenance_work_mem is {human(current)}; the largest table is {human(largest)}{seen}",
               "VACUUM, CREATE INDEX and ALTER TABLE ADD FOREIGN KEY work in memory in fewer passes "
               f"({size(target)}: memory/16 as PGTune, at most 1GB, sized to the largest table"
               + (" and to what they spilled): their temporary bytes go to 0" if spills else ")"),
               Symptom.TEMP_SPILL if spills else Symptom.NONE,
               memory_bytes=memory, largest_table_bytes=largest, **spills)
    workers = int(ctx.snap.setting("autovacuum_max_workers").number)
    if ctx.snap.setting("autovacuum_work_mem").setting == "-1" and workers * target > memory // 8:
        av = max(64 * MB, (memory // 8 // workers) // MB * MB)
        ctx.server("autovacuum_work_mem", size(av), Family.MEMORY,
                   f"autovacuum_work_mem is -1, so {workers} autovacuum workers could each take "
                   f"maintenance_work_mem ({size(target)})",
                   f"autovacuum workers together stay within an eighth of memory ({workers} × {size(av)})",
                   autovacuum_max_workers=workers)
