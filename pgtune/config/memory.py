"""Memory: work_mem where statements spill, shared_buffers, effective_cache_size, maintenance memory.

work_mem is raised for the roles whose statements wrote temporary files
(pg_stat_statements.temp_blks_written), to about twice what a call spilled
(a sort's or hash's tuples take more room in memory than in their temporary
file), rounded up to a power of two MB, and never above what the memory
budget allows every connection. Role scope is the narrowest setting pgtune
can apply; a ``SET LOCAL work_mem`` around the one statement is narrower still.
shared_buffers, effective_cache_size and maintenance_work_mem follow the
PostgreSQL documentation (25% of memory; the page cache a query can count
on) and PGTune's published formulas, sized down to the data when it is smaller.
"""

from __future__ import annotations

import re
from collections import defaultdict

from ..errors import InputError
from . import budget
from .context import Context
from .evidence import StatementStats
from .model import Family, Symptom
from .units import GB, MB, human, parse_size, round_up_mb, size

SPILL_FACTOR = 2.0          # memory a spilled sort or hash needs, per byte of its temporary file
MIN_SPILL_BYTES = 1 * MB    # a smaller spill per call is noise
QUERY = re.compile(r"^\s*(\(\s*)*(select|with|insert|update|delete|merge|values|table)\b", re.IGNORECASE)


def propose(ctx: Context) -> None:
    _work_mem(ctx)
    _shared_buffers(ctx)
    _effective_cache_size(ctx)
    _maintenance(ctx)


def _work_mem(ctx: Context) -> None:
    spills: dict[str, list[StatementStats]] = defaultdict(list)
    for st in ctx.snap.statements:
        if not QUERY.match(st.query):
            continue        # CREATE INDEX spills under maintenance_work_mem; a utility statement is no query
        if st.calls > 0 and st.temp_blks_written * 8192 / st.calls >= MIN_SPILL_BYTES:
            spills[st.role].append(st)
    if not spills:
        return
    current = ctx.bytes("work_mem")
    cap = budget.work_mem_cap(budget.effective(ctx.snap, ctx.proposals), ctx.memory())
    for role, stmts in sorted(spills.items()):
        worst = max(st.temp_blks_written * 8192 / st.calls for st in stmts)
        want = round_up_mb(worst * SPILL_FACTOR)
        own = ctx.snap.role_value(role, ctx.snap.database, "work_mem")
        own_bytes = _size_or_zero(own)
        if own_bytes >= want:
            want = own_bytes * 2     # it spills at the role's own value already: narrow tuples take more room
        if cap is not None and want > cap:
            want = round_up_mb(worst * SPILL_FACTOR, power_of_two=False)   # the exact need, if that fits
        if cap is not None and want > cap:
            want = max(current, (cap // MB) * MB)
            ctx.notes.append(f"work_mem for role {role} is held to {human(want)} by the memory budget "
                             f"(its statements spill up to {human(worst)} a call): run them with SET LOCAL "
                             "work_mem inside their transaction instead")
        if want <= max(current, own_bytes):
            continue
        top = sorted(stmts, key=lambda s: -s.temp_blks_written)[:3]
        temp = sum(s.temp_blks_written for s in stmts) * 8192
        evidence = {"statements": [{"queryid": s.queryid, "query": s.query[:200], "calls": s.calls,
                                    "temp_bytes_per_call": int(s.temp_blks_written * 8192 / s.calls)} for s in top],
                    "temp_bytes": temp,
                    "largest_spill_per_call": int(worst), "budget_cap": cap}
        why = (f"{len(stmts)} statement(s) of role {role} wrote {human(temp)} of temporary files, "
               f"up to {human(worst)} a call, under work_mem {human(current)}"
               + (f" ({role}'s own {own})" if own else ""))
        expect = (f"their sorts and hashes fit in {size(want)}: temporary bytes of these statements go to 0 "
                  "for a spill of the same size")
        if role:
            ctx.role(role, "work_mem", size(want), Family.MEMORY, why, expect, Symptom.TEMP_SPILL, **evidence)
        else:
            ctx.server("work_mem", size(want), Family.MEMORY, why, expect, Symptom.TEMP_SPILL, **evidence)


def _size_or_zero(text: str | None) -> int:
    try:
        return parse_size(text) if text else 0
    except InputError:
        return 0


def _shared_buffers(ctx: Context) -> None:
    memory = ctx.memory()
    if memory is None:
        return
    shared = ctx.bytes("shared_buffers")
    data = ctx.snap.database_bytes
    target = min(memory // 4, max(128 * MB, round_up_mb(data * 1.25)))
    ratio = ctx.snap.counters.hit_ratio
    reads = ctx.snap.counters.blks_read
    if target <= shared * 1.5 or (data <= shared and (ratio is None or ratio >= 0.99)):
        return
    ctx.server("shared_buffers", size(target), Family.MEMORY,
               f"shared_buffers is {human(shared)} on a server with {human(memory)} for {human(data)} of data"
               + (f"; {reads:,} block reads missed it (hit ratio {ratio:.1%})" if ratio is not None else ""),
               f"more of the data stays in PostgreSQL's own cache ({size(target)}: 25% of memory, the "
               "documentation's starting point, or the data with room to grow): fewer block reads",
               Symptom.CACHE_MISSES, memory_bytes=memory, database_bytes=data, hit_ratio=ratio, blocks_read=reads)


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


def _maintenance(ctx: Context) -> None:
    memory = ctx.memory()
    if memory is None:
        return
    current = ctx.bytes("maintenance_work_mem")
    largest = max((t.bytes for t in ctx.snap.tables.values()), default=0)
    target = min(memory // 16, 1 * GB, max(64 * MB, round_up_mb(largest / 4)))
    target = (target // MB) * MB
    if target <= current * 1.5:
        return
    ctx.server("maintenance_work_mem", size(target), Family.MEMORY,
               f"maintenance_work_mem is {human(current)}; the largest table is {human(largest)}",
               "VACUUM, CREATE INDEX and ALTER TABLE ADD FOREIGN KEY work in memory in fewer passes "
               f"({size(target)}: memory/16 as PGTune, at most 1GB, sized to the largest table)",
               memory_bytes=memory, largest_table_bytes=largest)
    workers = int(ctx.snap.setting("autovacuum_max_workers").number)
    if ctx.snap.setting("autovacuum_work_mem").setting == "-1" and workers * target > memory // 8:
        av = max(64 * MB, (memory // 8 // workers) // MB * MB)
        ctx.server("autovacuum_work_mem", size(av), Family.MEMORY,
                   f"autovacuum_work_mem is -1, so {workers} autovacuum workers could each take "
                   f"maintenance_work_mem ({size(target)})",
                   f"autovacuum workers together stay within an eighth of memory ({workers} × {size(av)})",
                   autovacuum_max_workers=workers)
