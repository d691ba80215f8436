"""What pgtune itself needs: pg_stat_statements preloaded and large enough, pg_qualstats preloaded.

Without pg_stat_statements in shared_preload_libraries pgtune sees no
workload; when pg_stat_statements.max is reached it evicts the least-used
statements (pg_stat_statements_info.dealloc counts the evictions), so the
workload pgtune reads is partial. Both need a restart. pg_qualstats, when the
server has it (pg_available_extensions), gives pgtune the constants the
workload really uses: it is added to the list when it is installed on disk.
"""

from __future__ import annotations

from .context import Context
from .model import Family


def _libraries(value: str) -> list[str]:
    return [x.strip().strip('"') for x in value.split(",") if x.strip()]


def propose(ctx: Context) -> None:
    s = ctx.snap.setting("shared_preload_libraries")
    loaded = _libraries(s.setting)
    missing = [x for x in ("pg_stat_statements", "pg_qualstats")
               if x not in loaded and (x == "pg_stat_statements" or x in ctx.snap.available)]
    if missing:
        ctx.server("shared_preload_libraries", ", ".join([*loaded, *missing]), Family.EXTENSIONS,
                   f"{' and '.join(missing)} not preloaded: "
                   + ("pgtune (and you) cannot see the workload" if "pg_stat_statements" in missing else
                      "pg_qualstats is installed on the server but samples no constant"),
                   f"after the restart, CREATE EXTENSION {missing[0]}"
                   + (f" and {missing[1]}" if len(missing) > 1 else "")
                   + ": suggest and config read the workload's statements"
                   + (" and the constants it really uses (set pg_qualstats.sample_rate)"
                      if "pg_qualstats" in missing else ""),
                   shared_preload_libraries=s.setting, available=sorted(ctx.snap.available))
        return
    dealloc = ctx.snap.statements_dealloc
    if dealloc and "pg_stat_statements.max" in ctx.snap.settings:
        current = int(ctx.snap.setting("pg_stat_statements.max").number)
        ctx.server("pg_stat_statements.max", str(max(10_000, current * 2)), Family.EXTENSIONS,
                   f"pg_stat_statements evicted statements {dealloc:,} times (pg_stat_statements.max {current}): "
                   "the workload it shows is partial",
                   "every statement keeps its entry between resets (about 2 kB of shared memory each)",
                   dealloc=dealloc)
