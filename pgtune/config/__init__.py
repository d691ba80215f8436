"""pgtune config: server settings from what the server actually does.

Evidence (evidence.py) is read once, or twice ``window_s`` apart; each setting
family proposes from it (memory, wal, vacuum, planner, parallel, connections,
jit, extensions); the memory budget (budget.py) checks the set; on a managed
platform the server-wide changes become the platform's commands
(platform.py). migration.py writes the set as a phased migration; profile.py
is the calculator for a new server with no history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from . import budget, connections, evidence, extensions, hardware, jit, memory, parallel, planner, platform, vacuum, wal
from .context import Context
from .evidence import Snapshot
from .hardware import Hardware
from .model import Advice, ConfigReport, Family, InForce, MemoryBudget, Proposal, Scope, Storage, Symptom
from .platform import Platform
from .profile import Profile, ProfileConfig
from .profile import compute as compute_profile

__all__ = ["Advice", "ConfigOptions", "ConfigReport", "Family", "Hardware", "InForce", "MemoryBudget", "Platform",
           "Profile", "ProfileConfig", "Proposal", "Scope", "Snapshot", "Storage", "Symptom", "compute_profile",
           "run"]

FAMILIES = (memory, wal, vacuum, planner, parallel, connections, jit, extensions)


@dataclass(frozen=True)
class ConfigOptions:
    window_s: float | None = None          # two readings this far apart; None: since the counters' reset
    memory: int | None = None              # bytes; else the host's (cgroup limit), when pgtune runs there
    cpus: int | None = None
    storage: Storage | None = None
    pooler: bool | None = None             # a connection pooler in front; None: told from what the server shows


def run(conn: psycopg.Connection[Any], options: ConfigOptions | None = None, *,
        snapshot: Snapshot | None = None) -> tuple[ConfigReport, Snapshot]:
    """The proposals for this server, with their evidence, checked by the memory budget.

    ``snapshot``: evidence already read (evidence.window around a load a test or benchmark ran).
    """
    opts = options or ConfigOptions()
    server = platform.detect(conn)
    snap = snapshot if snapshot is not None else evidence.read(conn, opts.window_s)
    data_dir = snap.settings["data_directory"].setting if "data_directory" in snap.settings else None
    found = hardware.detect(server.backend_pid, data_dir, snap.major)
    hw = hardware.merge(found, opts.memory, opts.cpus, opts.storage)
    ctx = Context(snap, hw, pooler=opts.pooler)
    if hw.memory_bytes is None and data_dir is None:
        # data_directory is hidden from a role without pg_read_all_settings, and it is what tells pgtune that the
        # server is this machine's (u15: the tables' owner was told pgtune "does not run on its host" where it did).
        ctx.notes.append("the server's memory is unknown: this role may not read data_directory (it needs "
                         "pg_read_all_settings), so pgtune cannot tell whether it runs on the server's host: "
                         "GRANT pg_read_all_settings TO the role, or give --memory, --cpus and --storage for memory, "
                         "parallel and I/O proposals")
    elif hw.memory_bytes is None:
        ctx.notes.append("the server's memory is unknown (pgtune does not run on its host): give --memory, "
                         "--cpus and --storage for memory, parallel and I/O proposals")
    if snap.statements_readable and not snap.reads_all_stats:
        ctx.notes.append("this role sees only its own statements in pg_stat_statements (grant it pg_read_all_stats): "
                         "other roles' spills, JIT time and session features are not judged")
    if not snap.statements_readable:
        ctx.notes.append("pg_stat_statements is not readable in this database: no per-statement evidence "
                         "(temporary files, JIT, UPDATE columns)")
    for family in FAMILIES:
        family.propose(ctx)
    ctx.proposals.sort(key=lambda p: (p.scope.rank, p.family, p.setting, p.role or "", p.schema or "",
                                      p.table or ""))
    checked = budget.check_set(snap, ctx.proposals, hw.memory_bytes)
    period = {"since": snap.since.isoformat(), "until": snap.taken_at.isoformat(),
              "seconds": round(snap.seconds, 1), "window": snap.window}
    report = ConfigReport(str(snap.server_version_num), str(server.platform), server.superuser, hw.as_dict(), period,
                          ctx.proposals, ctx.advice, checked, notes=ctx.notes)
    if not server.superuser:
        units = {name: s.unit for name, s in snap.settings.items()}
        report.platform_changes = platform.changes(server.platform, ctx.proposals, units)
        if any(p.scope in (Scope.RELOAD, Scope.RESTART) for p in ctx.proposals):
            report.notes.append("this role may not run ALTER SYSTEM: the server-wide proposals are left out of the "
                                "migration" + (f"; {server.platform}'s own commands are under platform_changes"
                                               if report.platform_changes else "; a superuser must apply them"))
    return report, snap
