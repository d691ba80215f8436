"""A new server with no history: settings for a workload profile from the hardware, by documented formulas.

The formulas are PGTune's published ones (le0pard/pgtune, the calculator at
pgtune.leopard.in.ua) and the PostgreSQL documentation's starting points,
each named beside its setting; maintenance_work_mem is capped at 2GB as
timescaledb-tune caps it. The set is checked by the same memory budget as
`pgtune config`'s proposals and refused when it does not fit.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from . import budget, parallel
from .model import MemoryBudget, Storage
from .units import GB, KB, MB, size

RESTART = frozenset({"shared_buffers", "max_connections", "huge_pages", "wal_buffers", "max_worker_processes"})


class Profile(StrEnum):
    WEB = "web"
    OLTP = "oltp"
    DW = "dw"            # data warehouse: few, large queries
    MIXED = "mixed"
    DESKTOP = "desktop"  # a developer's machine: PostgreSQL shares it


CONNECTIONS = {Profile.WEB: 200, Profile.OLTP: 300, Profile.DW: 40, Profile.DESKTOP: 20, Profile.MIXED: 100}
WAL = {Profile.WEB: (1 * GB, 4 * GB), Profile.OLTP: (2 * GB, 8 * GB), Profile.DW: (4 * GB, 16 * GB),
       Profile.DESKTOP: (100 * MB, 2 * GB), Profile.MIXED: (1 * GB, 4 * GB)}
IO_CONCURRENCY = {Storage.HDD: 2, Storage.SSD: 200, Storage.SAN: 300}


@dataclass(frozen=True)
class ProfileSetting:
    name: str
    value: str
    formula: str          # where the value comes from
    restart: bool         # takes effect at the next server start


@dataclass
class ProfileConfig:
    profile: Profile
    memory_bytes: int
    cpus: int | None
    storage: Storage
    connections: int
    settings: list[ProfileSetting] = field(default_factory=list)
    budget: MemoryBudget | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "profile": str(self.profile), "storage": str(self.storage)}

    def conf(self) -> str:
        """postgresql.conf lines (a value is quoted as the file's syntax wants it)."""
        return "".join(f"{s.name} = {quote(s.value)}\t# {s.formula}\n" for s in self.settings)

    def alter_system(self) -> str:
        lines = [f"ALTER SYSTEM SET {s.name} = {quote(s.value)};" for s in self.settings]
        restart = [s.name for s in self.settings if s.restart]
        lines.append("SELECT pg_reload_conf();")
        if restart:
            lines.append(f"-- in force after the next restart: {', '.join(restart)}")
        return "\n".join(lines) + "\n"


def quote(value: str) -> str:
    """A setting value as a single-quoted literal (the quote doubled): valid in postgresql.conf and in SQL."""
    return "'" + value.replace("'", "''") + "'"


def _work_mem(p: Profile, memory: int, shared: int, connections: int, workers: int) -> int:
    per = (memory - shared) / ((connections + workers) * 3)
    per /= {Profile.DW: 2, Profile.MIXED: 2, Profile.DESKTOP: 6}.get(p, 1)
    return max(4 * MB, math.floor(per / KB) * KB)


def compute(p: Profile, memory: int, cpus: int | None, storage: Storage, connections: int | None = None,
            server_version_num: int = 150000) -> ProfileConfig:
    """The settings for profile ``p``; ``budget.ok`` says whether they fit in ``memory``."""
    conns = connections or CONNECTIONS[p]
    shared = memory // 16 if p == Profile.DESKTOP else memory // 4
    shared = shared // MB * MB
    out: list[tuple[str, str, str]] = [
        ("max_connections", str(conns), f"PGTune's default for {p}" if connections is None else "--connections"),
        ("shared_buffers", size(shared), "RAM/16 (desktop)" if p == Profile.DESKTOP else
         "RAM/4: PGTune, and the PostgreSQL docs' starting point for a dedicated server"),
        ("effective_cache_size", size((memory // 4 if p == Profile.DESKTOP else memory * 3 // 4) // MB * MB),
         "RAM/4 (desktop)" if p == Profile.DESKTOP else "RAM×3/4 (PGTune)"),
    ]
    mwm = min(memory // (8 if p == Profile.DW else 16), 2 * GB) // MB * MB
    out.append(("maintenance_work_mem", size(mwm), f"RAM/{8 if p == Profile.DW else 16} (PGTune), at most 2GB "
                "(timescaledb-tune)"))
    wal_min, wal_max = WAL[p]
    out += [("checkpoint_completion_target", "0.9", "PGTune; the default since PostgreSQL 14"),
            ("wal_buffers", size(max(64 * KB, min(shared * 3 // 100, 16 * MB)) // KB * KB),
             "3% of shared_buffers, at most 16MB (PGTune)"),
            ("min_wal_size", size(wal_min), f"PGTune for {p}"), ("max_wal_size", size(wal_max), f"PGTune for {p}"),
            ("default_statistics_target", "500" if p == Profile.DW else "100", f"PGTune for {p}"),
            ("random_page_cost", "4" if storage == Storage.HDD else "1.1", f"PGTune for {storage}"),
            ("effective_io_concurrency", str(IO_CONCURRENCY[storage]), f"PGTune for {storage}")]
    workers = 8
    if cpus is not None and cpus >= 4:
        par = parallel.targets(cpus, warehouse=p == Profile.DW)
        workers = par["max_worker_processes"]
        out += [(k, str(v), "PGTune: one per CPU" if v == cpus else "PGTune: half the CPUs, at most 4"
                 + (" (no cap for dw)" if p == Profile.DW and k == "max_parallel_workers_per_gather" else ""))
                for k, v in par.items()]
    work = _work_mem(p, memory, shared, conns, workers)
    out.append(("work_mem", size(work), "(RAM − shared_buffers) / ((max_connections + max_worker_processes) × 3)"
                + {Profile.DW: " / 2", Profile.MIXED: " / 2", Profile.DESKTOP: " / 6"}.get(p, "")
                + ", at least 4MB (PGTune)"))
    if shared >= 2 * GB:
        out.append(("huge_pages", "try", "shared_buffers of 2GB or more (PGTune): fewer page-table entries"))
    if p in (Profile.WEB, Profile.OLTP, Profile.MIXED) and server_version_num >= 120000:
        out.append(("jit", "off", "PGTune: short statements pay JIT compilation and gain nothing"))
    cfg = ProfileConfig(p, memory, cpus, storage, conns,
                        [ProfileSetting(n, v, f, n in RESTART) for n, v, f in out])
    cfg.budget = budget.check({"shared_buffers": shared, "max_connections": conns, "work_mem": work,
                               "hash_mem_multiplier": 2.0 if server_version_num >= 150000 else 1.0,
                               "autovacuum_max_workers": 3, "autovacuum_work_mem": -1,
                               "maintenance_work_mem": mwm, "wal_buffers": -1,
                               "other_shared": budget.estimated_shared(conns, shared)}, memory)
    return cfg
