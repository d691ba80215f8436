"""The memory budget: the most the server may ask for under a set of settings, against the memory there is.

shared_buffers is allocated at start, with PostgreSQL's other shared memory
(per-connection slots, the lock table, pg_stat_statements' and pg_qualstats'
entries, the activity buffers: ``shared_memory_size`` minus the buffers, on
PostgreSQL 15+); every session may use work_mem per sort or hash node (hash
nodes × hash_mem_multiplier); every autovacuum worker up to
autovacuum_work_mem (maintenance_work_mem when -1); wal_buffers once. The
worst case counts each session once at the largest work_mem any role gets —
a query with several sort and hash nodes uses more, which is why the budget
keeps a margin for the operating system and its page cache (HEADROOM) when
pgtune sizes work_mem itself, and refuses outright only a set whose worst
case exceeds the memory (postgresqltuner's "max memory usage" check, with
hash_mem_multiplier, which PostgreSQL 13 added).

A set is judged twice: as it will be after the restart its restart-level
settings wait for, and as it is until then (every other setting already in
force, the restart-level ones still at their old values): lowering
max_connections makes room only once the server restarts.
"""

from __future__ import annotations

from collections.abc import Mapping

from .evidence import Snapshot
from .model import MemoryBudget, Proposal, Scope
from .units import KB, MB, human, parse_size

HEADROOM = 0.75     # pgtune sizes work_mem so the worst case stays within this share of memory

# Shared memory per unit of the settings that size it, measured on PostgreSQL 15 with
# `postgres -C shared_memory_size` at two values of each (and rounded up): a connection slot
# (PGPROC, lock table share, stat slots) 52 kB, a pg_stat_statements entry 400 B (its text lives in
# a file), a pg_qualstats entry 1.4 kB, buffer descriptors 4.2% of shared_buffers.
PER_UNIT = {"max_connections": 52 * KB, "pg_stat_statements.max": 400, "pg_qualstats.max": 1400}
BUFFER_OVERHEAD = 0.042
AUX_SLOTS = 7       # backend status slots besides connections, workers and WAL senders (aux processes)

NAMES = ("shared_buffers", "max_connections", "work_mem", "hash_mem_multiplier", "autovacuum_max_workers",
         "autovacuum_work_mem", "maintenance_work_mem", "wal_buffers")
SIZED = ("pg_stat_statements.max", "pg_qualstats.max", "track_activity_query_size", "max_worker_processes",
         "max_wal_senders")


def _wal_buffers(value: int, shared_buffers: int) -> int:
    """wal_buffers -1 means 1/32 of shared_buffers, at least 64kB, at most one 16MB segment (the docs' rule)."""
    if value >= 0:
        return value
    return max(64 * 1024, min(shared_buffers // 32, 16 * MB))


def _number(snap: Snapshot, name: str, default: float = 0.0) -> float:
    s = snap.settings.get(name)
    if s is None:
        return default
    return float(s.bytes) if s.bytes is not None else (-1.0 if s.setting.startswith("-") else s.number)


def _slots(v: Mapping[str, float]) -> float:
    return (v["max_connections"] + v["autovacuum_max_workers"] + v["max_worker_processes"] + v["max_wal_senders"]
            + AUX_SLOTS)


def _sized_shared(v: Mapping[str, float]) -> float:
    """The shared memory the sized settings take: connection slots, statistics entries, activity buffers."""
    return (sum(v[k] * per for k, per in PER_UNIT.items()) + v["track_activity_query_size"] * _slots(v)
            + v["shared_buffers"] * BUFFER_OVERHEAD)


def estimated_shared(connections: int, shared_buffers: int) -> int:
    """Shared memory besides the buffers for a new server (defaults elsewhere: 5,000 statements, 1kB texts)."""
    return int(_sized_shared({"max_connections": connections, "pg_stat_statements.max": 5000,
                              "pg_qualstats.max": 0, "track_activity_query_size": 1024,
                              "autovacuum_max_workers": 3, "max_worker_processes": 8, "max_wal_senders": 10,
                              "shared_buffers": shared_buffers}))


def effective(snap: Snapshot, proposals: list[Proposal], *, restarted: bool = True) -> dict[str, float]:
    """The memory settings the set would leave in force: the server's, with the proposals over them.

    ``restarted`` False: as until the next restart (restart-level proposals not yet in force).
    """
    chosen = [p for p in proposals if restarted or p.scope != Scope.RESTART]
    out = {name: _number(snap, name) for name in NAMES}
    sized = {name: _number(snap, name) for name in SIZED}
    now = dict(out, **sized)
    for p in chosen:
        if p.scope in (Scope.RELOAD, Scope.RESTART) and (p.setting in out or p.setting in sized):
            target = out if p.setting in out else sized
            target[p.setting] = _value(p.setting, p.value, snap)
    role_work_mem = [parse_size(v) for conf in snap.role_settings.values()
                     for k, v in conf.items() if k == "work_mem" and _is_size(v)]
    role_work_mem += [parse_size(p.value) for p in chosen if p.setting == "work_mem" and p.scope == Scope.ROLE]
    out["work_mem"] = max([out["work_mem"], *role_work_mem])
    # PostgreSQL's own count of its shared memory (15+), less the buffers, plus what the proposals change
    total = snap.settings.get("shared_memory_size")
    if total is not None and total.bytes:
        base = total.bytes - now["shared_buffers"] - _wal_buffers(int(now["wal_buffers"]), int(now["shared_buffers"]))
        other = max(0.0, base) + _sized_shared(dict(out, **sized)) - _sized_shared(now)
    else:
        other = _sized_shared(dict(out, **sized))       # PostgreSQL 14: estimated from the sizes alone
    out["other_shared"] = other
    return out


def _is_size(text: str) -> bool:
    try:
        parse_size(text)
        return True
    except Exception:
        return False


def _value(name: str, value: str, snap: Snapshot) -> float:
    unit = snap.settings[name].unit if name in snap.settings else None
    if unit and unit.endswith("B"):
        return -1.0 if value.strip().startswith("-") else float(parse_size(value))
    return float(value)


def check(values: Mapping[str, float], memory: int | None) -> MemoryBudget:
    """The worst case of ``values`` against ``memory`` (None: unknown, so nothing is refused)."""
    shared = int(values["shared_buffers"])
    conns = int(values["max_connections"])
    work = int(values["work_mem"])
    hmm = float(values["hash_mem_multiplier"])
    workers = int(values["autovacuum_max_workers"])
    av = int(values["autovacuum_work_mem"])
    av = av if av >= 0 else int(values["maintenance_work_mem"])
    wal = _wal_buffers(int(values["wal_buffers"]), shared)
    other = int(values.get("other_shared", 0))
    total = shared + other + int(conns * work * hmm) + workers * av + wal
    parts = (f"shared_buffers {human(shared)} + {conns} connections × work_mem {human(work)} × "
             f"hash_mem_multiplier {hmm:g} + {workers} autovacuum workers × {human(av)} + wal_buffers {human(wal)}"
             + (f" + other shared memory {human(other)}" if other else "") + f" = {human(total)}")
    if memory is None:
        return MemoryBudget(None, shared, conns, work, hmm, workers, av, wal, total, True,
                            f"{parts}; the server's memory is unknown (give --memory): not checked", other, total)
    ok = total <= memory
    verdict = (f"fits in {human(memory)}" if ok else
               f"exceeds the server's {human(memory)}: this set could run the server out of memory, refused")
    return MemoryBudget(memory, shared, conns, work, hmm, workers, av, wal, total, ok, f"{parts} {verdict}",
                        other, total)


def check_set(snap: Snapshot, proposals: list[Proposal], memory: int | None) -> MemoryBudget:
    """The set judged after the restart and until it: refused when either could run out of memory."""
    after = check(effective(snap, proposals), memory)
    if not any(p.scope == Scope.RESTART for p in proposals):
        return after
    until = check(effective(snap, proposals, restarted=False), memory)
    after.interim_bytes = until.total_bytes
    if until.total_bytes != after.total_bytes:
        after.message += f"; until the restart: {until.message}"
        after.ok = after.ok and until.ok
    return after


def work_mem_cap(values: Mapping[str, float], memory: int | None) -> int | None:
    """The largest work_mem every connection may have with the worst case within HEADROOM of memory."""
    if memory is None:
        return None
    rest = dict(values)
    rest["work_mem"] = 0
    fixed = check(rest, memory).total_bytes
    per = (memory * HEADROOM - fixed) / max(1.0, values["max_connections"] * values["hash_mem_multiplier"])
    return max(0, int(per))


def set_cap(snap: Snapshot, proposals: list[Proposal], memory: int | None) -> int | None:
    """work_mem_cap both after the restart and until it: the smaller."""
    caps = [work_mem_cap(effective(snap, proposals, restarted=r), memory) for r in (True, False)]
    known = [c for c in caps if c is not None]
    return min(known) if known else None
