"""The memory budget: the most the server may ask for under a set of settings, against the memory there is.

shared_buffers is allocated at start; every session may use work_mem per sort
or hash node (hash nodes × hash_mem_multiplier); every autovacuum worker up to
autovacuum_work_mem (maintenance_work_mem when -1); wal_buffers once. The
worst case counts each session once at the largest work_mem any role gets —
a query with several sort and hash nodes uses more, which is why the budget
keeps a margin for the operating system and its page cache (HEADROOM) when
pgtune sizes work_mem itself, and refuses outright only a set whose worst
case exceeds the memory (postgresqltuner's "max memory usage" check, with
hash_mem_multiplier, which PostgreSQL 13 added).
"""

from __future__ import annotations

from collections.abc import Mapping

from .evidence import Snapshot
from .model import MemoryBudget, Proposal, Scope
from .units import MB, human, parse_size

HEADROOM = 0.75     # pgtune sizes work_mem so the worst case stays within this share of memory


def _wal_buffers(value: int, shared_buffers: int) -> int:
    """wal_buffers -1 means 1/32 of shared_buffers, at least 64kB, at most one 16MB segment (the docs' rule)."""
    if value >= 0:
        return value
    return max(64 * 1024, min(shared_buffers // 32, 16 * MB))


def effective(snap: Snapshot, proposals: list[Proposal]) -> dict[str, float]:
    """The memory settings the set would leave in force: the server's, with the proposals over them."""
    names = ("shared_buffers", "max_connections", "work_mem", "hash_mem_multiplier", "autovacuum_max_workers",
             "autovacuum_work_mem", "maintenance_work_mem", "wal_buffers")
    out: dict[str, float] = {}
    for name in names:
        s = snap.settings[name]
        out[name] = float(s.bytes) if s.bytes is not None else (-1.0 if s.setting.startswith("-") else s.number)
    for p in proposals:
        if p.setting in out and p.scope in (Scope.RELOAD, Scope.RESTART):
            out[p.setting] = _value(p.setting, p.value, snap)
    role_work_mem = [parse_size(v) for conf in snap.role_settings.values()
                     for k, v in conf.items() if k == "work_mem" and _is_size(v)]
    role_work_mem += [parse_size(p.value) for p in proposals if p.setting == "work_mem" and p.scope == Scope.ROLE]
    out["work_mem"] = max([out["work_mem"], *role_work_mem])
    return out


def _is_size(text: str) -> bool:
    try:
        parse_size(text)
        return True
    except Exception:
        return False


def _value(name: str, value: str, snap: Snapshot) -> float:
    unit = snap.settings[name].unit
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
    total = shared + int(conns * work * hmm) + workers * av + wal
    parts = (f"shared_buffers {human(shared)} + {conns} connections × work_mem {human(work)} × "
             f"hash_mem_multiplier {hmm:g} + {workers} autovacuum workers × {human(av)} + wal_buffers {human(wal)} "
             f"= {human(total)}")
    if memory is None:
        return MemoryBudget(None, shared, conns, work, hmm, workers, av, wal, total, True,
                            f"{parts}; the server's memory is unknown (give --memory): not checked")
    ok = total <= memory
    verdict = (f"fits in {human(memory)}" if ok else
               f"exceeds the server's {human(memory)}: this set could run the server out of memory, refused")
    return MemoryBudget(memory, shared, conns, work, hmm, workers, av, wal, total, ok, f"{parts} {verdict}")


def work_mem_cap(values: Mapping[str, float], memory: int | None) -> int | None:
    """The largest work_mem every connection may have with the worst case within HEADROOM of memory."""
    if memory is None:
        return None
    rest = dict(values)
    rest["work_mem"] = 0
    fixed = check(rest, memory).total_bytes
    per = (memory * HEADROOM - fixed) / max(1.0, values["max_connections"] * values["hash_mem_multiplier"])
    return max(0, int(per))
