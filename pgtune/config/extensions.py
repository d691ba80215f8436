"""What pgtune itself needs: pg_stat_statements and pg_qualstats preloaded and large enough, texts seen whole.

Without pg_stat_statements in shared_preload_libraries pgtune sees no
workload; pg_qualstats, when the server has it (pg_available_extensions),
gives pgtune the constants the workload really uses. When
pg_stat_statements.max is reached it evicts the least-used statements
(pg_stat_statements_info.dealloc counts the evictions), so the workload
pgtune reads is partial; pg_qualstats' table (pg_qualstats.max) evicts
predicates and constants the same way once full. pg_stat_activity cuts a
statement's text at track_activity_query_size, so a long statement that
blocks others (pgtune names them before a build) shows only its start.
All four need a restart; each entry or byte is shared memory, which the
memory budget counts.
"""

from __future__ import annotations

import math

from .. import ddl
from ..capabilities import qualstats_size
from .context import Context
from .model import Family, Symptom
from .units import size

FULL_SHARE = 0.9             # entries at this share of .max: full (each eviction frees 5%, or more at once)
MIN_STATEMENTS_MAX = 10_000
MAX_QUERY_SIZE = 1 << 20     # track_activity_query_size's upper limit (1MB)


def propose(ctx: Context) -> None:
    if not _preload(ctx):
        _statements_max(ctx)
        _qualstats_max(ctx)
    _query_size(ctx)


def _preload(ctx: Context) -> bool:
    """The libraries pgtune needs in shared_preload_libraries; True when some are missing (a proposal made)."""
    if not ctx.snap.visible("shared_preload_libraries"):
        # What check tells this role too (u12): a loaded library shows itself without the superuser-only list.
        if all(x in ctx.snap.preloaded for x in ("pg_stat_statements", "pg_qualstats")
               if x == "pg_stat_statements" or x in ctx.snap.available):
            return False
        ctx.notes.append("this role cannot read shared_preload_libraries (superuser-only): whether pg_stat_statements "
                         "and pg_qualstats are preloaded is not checked; run pgtune config as a superuser for it")
        return False
    s = ctx.snap.setting("shared_preload_libraries")
    # An ALTER SYSTEM not in force yet is what the restart loads: the list adds to it (m10: it replaced it).
    pending = ctx.snap.preload_pending
    loaded = ddl.setting_list(s.setting if pending is None else pending)
    missing = [x for x in ("pg_stat_statements", "pg_qualstats")
               if x not in loaded and (x == "pg_stat_statements" or x in ctx.snap.available)]
    if not missing:
        return False
    ctx.server("shared_preload_libraries", ddl.list_setting([*loaded, *missing]), Family.EXTENSIONS,
               f"{' and '.join(missing)} not preloaded: "
               + ("pgtune (and you) cannot see the workload" if "pg_stat_statements" in missing else
                  "pg_qualstats is installed on the server but samples no constant")
               + ("" if pending is None else f" (added to {pending}, set but not in force until the restart)"),
               f"after the restart, CREATE EXTENSION {missing[0]}"
               + (f" and {missing[1]}" if len(missing) > 1 else "")
               + ": suggest and config read the workload's statements"
               + (" and the constants it really uses (set pg_qualstats.sample_rate)"
                  if "pg_qualstats" in missing else ""),
               Symptom.NOT_PRELOADED, shared_preload_libraries=s.setting, missing=missing,
               **({} if pending is None else {"pending": pending}),
               available=sorted(ctx.snap.available))
    return True


def _statements_max(ctx: Context) -> None:
    if "pg_stat_statements.max" not in ctx.snap.settings:
        return
    current = int(ctx.snap.setting("pg_stat_statements.max").number)
    dealloc = ctx.snap.statements_dealloc or 0
    entries = ctx.snap.statements_entries
    full = entries is not None and entries >= FULL_SHARE * current
    if not dealloc and not full:
        return
    value = max(MIN_STATEMENTS_MAX, current * 2, math.ceil(2 * (entries or 0) / 1000) * 1000)
    seen = (f"pg_stat_statements evicted its least-used statements {dealloc:,} times in the period" if dealloc
            else "pg_stat_statements is full")
    ctx.server("pg_stat_statements.max", str(value), Family.EXTENSIONS,
               f"{seen} ({entries if entries is not None else '?'} of pg_stat_statements.max {current} entries): "
               "the workload it shows, and pgtune reads, is partial",
               f"every statement keeps its entry between resets: no eviction (dealloc stays 0) for the same "
               f"workload (about 400 B of shared memory each, {value - current:,} more entries)",
               Symptom.STATEMENTS_EVICTED, dealloc=dealloc, entries=entries)


def _qualstats_max(ctx: Context) -> None:
    if "pg_qualstats.max" not in ctx.snap.settings or ctx.snap.qualstats_entries is None:
        return
    current = int(ctx.snap.setting("pg_qualstats.max").number)
    entries = ctx.snap.qualstats_entries
    if not current or entries < FULL_SHARE * current or ctx.snap.qualstats_unique_filled:
        return      # (unique-key lookups fill it: each key an entry, a larger table fills the same way)
    # Full: the count taken moves with each eviction (90% to 100% of the maximum), the maximum does not (F7).
    per = ctx.snap.qualstats_statements
    tracked = ctx.snap.qualstats_tracked
    value = qualstats_size(current, current, per, tracked) or 2 * current
    ctx.server("pg_qualstats.max", str(value), Family.EXTENSIONS,
               f"pg_qualstats' table is full (pg_qualstats.max, {current:,} entries, for {per or 0:,} statements): "
               "each new predicate or constant evicts the least used, so statements lose the constants suggest "
               "would cost them with",
               f"room for {current / per if per else 0:,.1f} entries per statement for the {tracked or 0:,} "
               "statements pg_stat_statements tracks that may have predicates: the table is no longer full (about "
               "1.4 kB of shared memory each; reset it with pg_qualstats_reset() at the start of the window pgtune "
               "reads)",
               Symptom.QUALSTATS_FULL, entries=entries, qualstats_statements=per, statements_tracked=tracked)


def _query_size(ctx: Context) -> None:
    s = ctx.snap.settings.get("track_activity_query_size")
    if s is None or s.bytes is None:
        return
    long = ctx.snap.workload.longer_than(s.bytes)
    if not long:
        return
    longest = long[0].text_bytes
    value = min(MAX_QUERY_SIZE, 1 << longest.bit_length())     # a power of two above the longest text
    if value <= s.bytes:
        return
    ctx.server("track_activity_query_size", size(value), Family.EXTENSIONS,
               f"{len(long)} statement(s) of the workload are {s.bytes:,} bytes or longer (the longest "
               f"{longest:,}): pg_stat_activity shows only their first {s.bytes - 1:,} bytes, so a blocking or "
               "long-running one cannot be told from its text",
               f"pg_stat_activity shows these statements whole ({value:,} bytes per session slot of shared memory)",
               Symptom.LONG_TEXTS, statements=[{"queryid": e.queryid, "role": e.role, "text_bytes": e.text_bytes}
                                                for e in long[:5]],
               longer=len(long), longest_bytes=longest, track_activity_query_size_bytes=s.bytes)
