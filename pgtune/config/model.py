"""What `pgtune config` reports: the settings in force, the proposals with their evidence, and the advice.

A proposal names one setting, where it is set (its ``Scope``: a role, a
table, the server with a reload, the server with a restart), the value in
force now with where it came from (pg_settings ``source``, ``context``,
``pending_restart``), the value proposed, the numbers that justify it, why,
and what it is expected to change: the ``symptom`` that verify measures again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from ..plan import SettingScope as Scope
from .units import unit_bytes, unit_ms

__all__ = ["Advice", "ConfigReport", "Family", "InForce", "MemoryBudget", "Proposal", "Scope", "Storage", "Symptom"]


class Family(StrEnum):
    """The setting families, one docs page each (docs/settings/<family>.md)."""

    MEMORY = "memory"
    WAL = "wal"
    AUTOVACUUM = "autovacuum"
    PLANNER = "planner"
    PARALLEL = "parallel"
    CONNECTIONS = "connections"
    JIT = "jit"
    EXTENSIONS = "extensions"


class Symptom(StrEnum):
    """What a proposal expects to go away; verify measures it again with the same query."""

    TEMP_SPILL = "temp-spill"                      # sorts and hashes written to temporary files
    REQUESTED_CHECKPOINTS = "requested-checkpoints"  # checkpoints forced by WAL volume, not by time
    WAL_BUFFERS_FULL = "wal-buffers-full"          # backends writing WAL themselves: the buffer was full
    DEAD_TUPLES = "dead-tuples"                    # dead tuples waiting for a vacuum that comes late
    NON_HOT_UPDATES = "non-hot-updates"            # updates that moved to another page and touched every index
    CACHE_MISSES = "cache-misses"                  # reads that missed shared_buffers
    SHORT_CONNECTIONS = "short-connections"        # sessions opened and closed per request
    IDLE_IN_TRANSACTION = "idle-in-transaction"    # sessions holding a transaction open while idle
    JIT_OVERHEAD = "jit-overhead"                  # statements spending their time compiling
    FULL_PAGE_IMAGES = "full-page-images"          # a large share of WAL is whole pages: checkpoints too often
    CONNECTION_LIMIT = "connection-limit"          # sessions at or near max_connections
    NOT_PRELOADED = "not-preloaded"                # a library pgtune needs is not in shared_preload_libraries
    STATEMENTS_EVICTED = "statements-evicted"      # pg_stat_statements full: entries evicted (dealloc)
    QUALSTATS_FULL = "qualstats-full"              # pg_qualstats' table full: predicates and constants evicted
    LONG_TEXTS = "long-texts"                      # statements longer than track_activity_query_size
    NONE = "none"                                  # a setting with no measurable symptom (a planner cost, a size)


class Storage(StrEnum):
    """What the data directory lives on (--storage, or the device's rotational flag)."""

    SSD = "ssd"
    HDD = "hdd"
    SAN = "san"


@dataclass(frozen=True)
class InForce:
    """One row of pg_settings: the value in force, in its unit, and where it came from."""

    name: str
    setting: str                  # pg_settings.setting, in ``unit``
    unit: str | None
    vartype: str
    source: str                   # default, configuration file, override, environment variable, …
    context: str                  # postmaster (restart), sighup (reload), user, superuser, …
    boot_val: str | None
    reset_val: str | None
    pending_restart: bool
    shown: str                    # current_setting(): the value as a person reads it (``4MB``)

    @property
    def bytes(self) -> int | None:
        """A memory setting in bytes (None when not memory, or -1: "use another setting")."""
        factor = unit_bytes(self.unit)
        if factor is None:
            return None
        n = int(float(self.setting))
        return None if n < 0 else n * factor

    @property
    def ms(self) -> float | None:
        factor = unit_ms(self.unit)
        return None if factor is None else float(self.setting) * factor

    @property
    def number(self) -> float:
        return float(self.setting)

    @property
    def needs_restart(self) -> bool:
        return self.context == "postmaster"


@dataclass
class Proposal:
    """One setting to change, with what pgtune saw."""

    setting: str
    family: Family
    scope: Scope
    value: str                          # as PostgreSQL reads it back: '64MB', '0.9', 'on'
    current: str | None                 # the value in force for the scope's object (None: not set there)
    source: str                         # pg_settings.source, or 'role' / 'table' / 'not set'
    context: str                        # pg_settings.context
    pending_restart: bool               # pg_settings.pending_restart now
    why: str
    expect: str                         # what it is expected to change, in numbers where it can
    symptom: Symptom = Symptom.NONE
    evidence: dict[str, Any] = field(default_factory=dict)
    role: str | None = None             # Scope.ROLE: the role …
    database: str | None = None         # … in this database
    schema: str | None = None           # Scope.TABLE: the table
    table: str | None = None

    @property
    def target(self) -> str:
        """Where the setting is changed, for a person."""
        if self.scope == Scope.ROLE:
            return f"role {self.role}" + (f" in {self.database}" if self.database else "")
        if self.scope == Scope.TABLE:
            return f"table {self.schema}.{self.table}"
        return "server"


@dataclass
class Advice:
    """A recommendation that is not a setting pgtune can change (a pooler, a rewrite, a platform step)."""

    family: Family
    title: str
    why: str
    what_changes: list[str] = field(default_factory=list)   # what the application must know
    symptom: Symptom = Symptom.NONE
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class MemoryBudget:
    """The worst case the set of settings allows, against the memory there is.

    shared_buffers + (max_connections × work_mem × hash_mem_multiplier)
    + (autovacuum_max_workers × autovacuum_work_mem, or maintenance_work_mem)
    + wal_buffers + PostgreSQL's other shared memory, against the server's memory (its
    cgroup limit where one applies), after the restart and until it.
    """

    memory_bytes: int | None
    shared_buffers: int
    connections: int
    work_mem: int                      # the largest work_mem any session may get (server, role or proposal)
    hash_mem_multiplier: float
    autovacuum_workers: int
    autovacuum_mem: int
    wal_buffers: int
    total_bytes: int
    ok: bool
    message: str
    other_shared: int = 0              # PostgreSQL's other shared memory (connection slots, statistics entries, …)
    interim_bytes: int = 0             # the worst case until the restart (restart-level settings not yet in force)


@dataclass
class ConfigReport:
    """What `pgtune config` found and proposes."""

    server_version: str
    platform: str
    alter_system: bool                     # may this role run ALTER SYSTEM?
    hardware: dict[str, Any]
    period: dict[str, Any]                 # since when the counters count, or the --window
    proposals: list[Proposal] = field(default_factory=list)
    advice: list[Advice] = field(default_factory=list)
    budget: MemoryBudget | None = None
    platform_changes: list[str] = field(default_factory=list)   # where ALTER SYSTEM is refused: the platform's way
    notes: list[str] = field(default_factory=list)
    migration: dict[str, Any] | None = None                      # with --emit: id, directory, phases

    def as_dict(self) -> dict[str, Any]:
        return {"server_version": self.server_version, "platform": self.platform, "alter_system": self.alter_system,
                "hardware": self.hardware, "period": self.period,
                "proposals": [asdict(p) for p in self.proposals], "advice": [asdict(a) for a in self.advice],
                "budget": asdict(self.budget) if self.budget is not None else None,
                "platform_changes": self.platform_changes, "notes": self.notes, "migration": self.migration}
