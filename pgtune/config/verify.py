"""Did the symptom go away? The evidence read again, judged per setting of a config migration.

Each setting carries the symptom it was proposed for and the evidence it was
proposed on (the statements that spilled, the table that kept dead tuples);
verify reads the same statistics — over a --window while the load runs, or
since their reset — and says per setting: gone, still there, not in force
yet (a pending restart, a migration not applied), or not measurable (the
statements did not run in the window).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from ..apply import SettingState, SettingStatus
from ..plan import Migration, PlannedSetting, SettingScope
from . import jit, vacuum
from .evidence import Snapshot
from .migration import target
from .model import Symptom


class Outcome(StrEnum):
    GONE = "gone"
    PERSISTS = "persists"
    NOT_IN_FORCE = "not-in-force"
    NOT_MEASURED = "not-measured"     # the load that showed it did not run in the period
    NO_SYMPTOM = "no-symptom"         # a setting with nothing to measure (a planner cost)


@dataclass(frozen=True)
class SettingCheck:
    name: str
    target: str
    symptom: str
    outcome: Outcome
    before: dict[str, Any]        # the numbers at emit
    now: dict[str, Any]           # the same numbers in the period verify read
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome != Outcome.PERSISTS


@dataclass
class ConfigVerification:
    migration_id: str
    period: dict[str, Any]
    checks: list[SettingCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {"migration_id": self.migration_id, "ok": self.ok, "period": self.period,
                "checks": [{**asdict(c), "ok": c.ok} for c in self.checks]}


def judge(m: Migration, snap: Snapshot, statuses: list[SettingStatus]) -> ConfigVerification:
    out = ConfigVerification(m.id, {"since": snap.since.isoformat(), "until": snap.taken_at.isoformat(),
                                    "seconds": round(snap.seconds, 1), "window": snap.window})
    state = {(st.phase, st.name, st.target): st for st in statuses}
    for phase in m.phases:
        for s in phase.settings:
            st = state.get((phase.number, s.name, target(s)))
            out.checks.append(_check(s, snap, st))
    return out


def _check(s: PlannedSetting, snap: Snapshot, st: SettingStatus | None) -> SettingCheck:
    where = target(s)
    if st is None or st.state != SettingState.APPLIED:
        return SettingCheck(s.name, where, s.symptom, Outcome.NOT_IN_FORCE, s.evidence, {},
                            "not applied" if st is None or st.state == SettingState.AS_EMITTED
                            else "changed by someone else since emit")
    if st.pending_restart or (s.scope == SettingScope.RESTART and st.in_force != s.value):
        return SettingCheck(s.name, where, s.symptom, Outcome.NOT_IN_FORCE, s.evidence, {},
                            "written, pending a restart (pgtune never restarts)")
    symptom = Symptom(s.symptom)
    measure = MEASURES.get(symptom)
    if measure is None:
        return SettingCheck(s.name, where, s.symptom, Outcome.NO_SYMPTOM, s.evidence, {})
    outcome, now, note = measure(s, snap)
    return SettingCheck(s.name, where, s.symptom, outcome, s.evidence, now, note)


Measured = tuple[Outcome, dict[str, Any], str]


def _temp_spill(s: PlannedSetting, snap: Snapshot) -> Measured:
    ids = {x["queryid"] for x in s.evidence.get("statements", [])}
    ran = [st for st in snap.statements if st.queryid in ids and st.role == (s.role or st.role) and st.calls > 0]
    if not ran:
        return Outcome.NOT_MEASURED, {}, "the statements that spilled did not run in the period"
    temp = sum(st.temp_blks_written for st in ran) * 8192
    now = {"calls": sum(st.calls for st in ran), "temp_bytes": temp}
    return (Outcome.GONE if temp == 0 else Outcome.PERSISTS), now, ""


def _checkpoints(s: PlannedSetting, snap: Snapshot) -> Measured:
    c = snap.counters
    now = {"checkpoints_requested": c.checkpoints_requested, "checkpoints_timed": c.checkpoints_timed,
           "wal_bytes": c.wal_bytes}
    if c.wal_bytes == 0:
        return Outcome.NOT_MEASURED, now, "no WAL written in the period"
    return (Outcome.GONE if c.checkpoints_requested == 0 else Outcome.PERSISTS), now, ""


def _wal_buffers(s: PlannedSetting, snap: Snapshot) -> Measured:
    c = snap.counters
    now = {"wal_buffers_full": c.wal_buffers_full, "wal_bytes": c.wal_bytes}
    return (Outcome.GONE if c.wal_buffers_full < 100 else Outcome.PERSISTS), now, ""


def _table(s: PlannedSetting, snap: Snapshot) -> Any:
    return snap.tables.get((s.schema or "", s.table or ""))


def _dead(s: PlannedSetting, snap: Snapshot) -> Measured:
    t = _table(s, snap)
    if t is None:
        return Outcome.NOT_MEASURED, {}, "the table is gone"
    rows = max(t.reltuples, float(t.live), 1.0)
    now = {"dead": t.dead, "live": t.live, "dead_share": round(t.dead / rows, 3), "autovacuums": t.autovacuums}
    return (Outcome.GONE if t.dead < vacuum.DEAD_SHARE * rows else Outcome.PERSISTS), now, ""


def _hot(s: PlannedSetting, snap: Snapshot) -> Measured:
    t = _table(s, snap)
    if t is None or t.updates == 0:
        return Outcome.NOT_MEASURED, {}, "no update on the table in the period"
    share = t.hot_updates / t.updates
    now = {"updates": t.updates, "hot_updates": t.hot_updates, "hot_share": round(share, 3)}
    return (Outcome.GONE if share >= vacuum.HOT_SHARE else Outcome.PERSISTS), now, ""


def _cache(s: PlannedSetting, snap: Snapshot) -> Measured:
    ratio = snap.counters.hit_ratio
    now = {"hit_ratio": ratio, "blocks_read": snap.counters.blks_read}
    if ratio is None:
        return Outcome.NOT_MEASURED, now, "no block was read in the period"
    return (Outcome.GONE if ratio >= 0.99 else Outcome.PERSISTS), now, ""


def _idle(s: PlannedSetting, snap: Snapshot) -> Measured:
    from .units import duration_ms
    limit = duration_ms(s.value) / 1000 if s.value[-1:].isalpha() else float(s.value) / 1000
    idle = [x for x in snap.sessions if x.role == s.role and x.state.startswith("idle in transaction")]
    longest = max((x.longest_s for x in idle), default=0.0)
    now = {"sessions": sum(x.count for x in idle), "longest_s": round(longest, 1)}
    return (Outcome.GONE if longest <= limit + 1 else Outcome.PERSISTS), now, ""


def _jit(s: PlannedSetting, snap: Snapshot) -> Measured:
    ids = {x["queryid"] for x in s.evidence.get("statements", [])}
    ran = [st for st in snap.statements if st.queryid in ids and st.calls > 0]
    if not ran:
        return Outcome.NOT_MEASURED, {}, "the statements did not run in the period"
    worst = max(jit.share(st) for st in ran)
    now = {"calls": sum(st.calls for st in ran), "jit_share": round(worst, 3)}
    return (Outcome.GONE if worst < jit.SHARE else Outcome.PERSISTS), now, ""


MEASURES = {Symptom.TEMP_SPILL: _temp_spill, Symptom.REQUESTED_CHECKPOINTS: _checkpoints,
            Symptom.WAL_BUFFERS_FULL: _wal_buffers, Symptom.DEAD_TUPLES: _dead, Symptom.NON_HOT_UPDATES: _hot,
            Symptom.CACHE_MISSES: _cache, Symptom.IDLE_IN_TRANSACTION: _idle, Symptom.JIT_OVERHEAD: _jit}
