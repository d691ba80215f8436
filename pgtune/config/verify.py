"""Did the symptom go away? The evidence read again, judged per setting of a config migration.

Each setting carries the symptom it was proposed for and the evidence it was
proposed on (the statements that spilled, the table that kept dead tuples);
verify reads the same statistics — over a --window while the load runs, or
since their reset — and says per setting: gone, still there, not in force
yet (a pending restart, a migration not applied), or not measurable (the
statements did not run in the window).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from .. import ddl
from ..apply import SettingState, SettingStatus
from ..plan import Migration, PlannedSetting, SettingScope
from . import connections, extensions, jit, vacuum, wal
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
    emptied: str = ""       # settings judged by statements pg_stat_statements lost since emit: nothing to compare

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks) and not self.emptied

    def as_dict(self) -> dict[str, Any]:
        return {"migration_id": self.migration_id, "ok": self.ok, "period": self.period,
                "checks": [{**asdict(c), "ok": c.ok} for c in self.checks], "statements_emptied": self.emptied}


def judge(m: Migration, snap: Snapshot, statuses: list[SettingStatus]) -> ConfigVerification:
    out = ConfigVerification(m.id, {"since": snap.since.isoformat(), "until": snap.taken_at.isoformat(),
                                    "seconds": round(snap.seconds, 1), "window": snap.window})
    state = {(st.phase, st.name, st.target): st for st in statuses}
    for phase in m.phases:
        for s in phase.settings:
            st = state.get((phase.number, s.name, target(s)))
            out.checks.append(_check(s, snap, st))
    out.checks = [_before_emit(c, snap, _created(m)) for c in out.checks]
    out.emptied = emptied(m, snap, out.checks)
    return out


def _created(m: Migration) -> datetime | None:
    try:
        return datetime.strptime(m.created, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _reset_since(reset: datetime, created: datetime) -> bool:
    """Was pg_stat_statements reset after emit? The migration's stamp keeps whole seconds: a reset within emit's
    second counts as before it (the counts then hold emit's calls, taken off: at worst "not run since emit"; read
    as after, verify judged the setting on the calls that made emit propose it, and said it persists)."""
    return reset >= created + timedelta(seconds=1)


def _before_emit(c: SettingCheck, snap: Snapshot, created: datetime | None) -> SettingCheck:
    """``c`` judged on what its statements did since emit where, without --window, pg_stat_statements was not
    reset since: its counts then hold the calls emit saw, when the setting was not there (c29: verify right after
    apply said work_mem "persists" on the 2 calls that made emit propose it, and went on saying so after the
    statement ran with the new work_mem and wrote nothing). Not measured when none ran since; gone when those that
    ran wrote no temporary file; else as it was (emit's counts may be a --window's: only ever less to take off)."""
    reset = snap.statements_reset
    if snap.window or created is None or reset is None or _reset_since(reset, created) \
            or c.outcome != Outcome.PERSISTS or c.symptom not in (Symptom.TEMP_SPILL, Symptom.JIT_OVERHEAD):
        return c
    listed = c.before.get("statements", [])
    calls = c.now.get("calls", 0) - sum(x.get("calls", 0) for x in listed)
    if calls <= 0:          # counters only grow until a reset: no more calls than at emit is no call since
        return replace(c, outcome=Outcome.NOT_MEASURED, now={},
                       note="the statements have not run since emit: every call counted came before it")
    temp = c.now.get("temp_bytes", 0) - sum(x.get("calls", 0) * x.get("temp_bytes_per_call", 0) for x in listed)
    if c.symptom == Symptom.TEMP_SPILL and temp < BLOCK:    # emit's per-call bytes are rounded down: < a block
        return replace(c, outcome=Outcome.GONE, now={"calls": calls, "temp_bytes": 0},
                       note="counted since emit: its calls and temporary bytes taken off")
    return c


BLOCK = 8192


# Judged by pg_stat_statements' counters: the statements behind them.
BY_STATEMENTS = frozenset({Symptom.TEMP_SPILL, Symptom.JIT_OVERHEAD, Symptom.LONG_TEXTS})


def emptied(m: Migration, snap: Snapshot, checks: list[SettingCheck]) -> str:
    """One line where pg_stat_statements was emptied after emit (s32: the restart that put a setting in force,
    with pg_stat_statements.save off or after a crash) and a setting judged by its statements has none to judge
    by: verify said "ok" per row, not measured, and exited 0, as if the spills had gone; or, not emptied, where
    its statements have not run since emit (_before_emit). '' otherwise."""
    reset, created = snap.statements_reset, _created(m)
    if snap.window or reset is None or created is None:
        return ""
    lost = [c.name for c in checks if c.outcome == Outcome.NOT_MEASURED and c.symptom in BY_STATEMENTS]
    if not lost:
        return ""
    if not _reset_since(reset, created):
        unrun = [c.name for c in checks if c.note.startswith("the statements have not run since emit")]
        return (f"nothing to compare for {', '.join(unrun)}: the statements it was set for have not run since emit "
                f"(pg_stat_statements counts since {reset.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC, before it): run "
                "the workload, then verify again (or verify --window SECONDS while it runs)") if unrun else ""
    restart = snap.started_at is not None and abs((reset - snap.started_at).total_seconds()) < RESTART_S
    how = "by the server's restart" if restart else "(pg_stat_statements_reset())"
    return (f"nothing to compare for {', '.join(lost)}: pg_stat_statements was emptied {how} at "
            f"{reset.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC, after emit, and the statements it was set for have "
            "not run since: run the workload, then verify again (or verify --window SECONDS while it runs)")


RESTART_S = 5.0     # a reset this close to the server's start is the start's (r24: 12-22 ms before it)


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
# An external sort writes its data at least twice (its runs, then the merge); a parallel index build that
# fits in memory still writes it once, the workers' output handed to the leader: at most this share is left.
HANDOFF_SHARE = 0.6


def _temp_spill(s: PlannedSetting, snap: Snapshot) -> Measured:
    ids = {x["queryid"] for x in s.evidence.get("statements", [])}
    ran = [st for st in snap.statements if st.queryid in ids and st.role == (s.role or st.role) and st.calls > 0]
    if not ran:
        calls = _quiet_calls(snap, ids, s.role)
        if calls:
            return Outcome.GONE, {"calls": calls, "temp_bytes": 0}, ""
        return Outcome.NOT_MEASURED, {}, "the statements that spilled did not run in the period"
    temp = sum(st.temp_blks_written for st in ran) * 8192
    calls = sum(st.calls for st in ran)
    now = {"calls": calls, "temp_bytes": temp}
    if temp == 0:
        return Outcome.GONE, now, ""
    before = s.evidence.get("largest_spill_per_call")
    if s.name == "maintenance_work_mem" and before and temp / calls <= HANDOFF_SHARE * before:
        return Outcome.GONE, now, ("the external sort is gone: what remains is a parallel build's hand-off (its "
                                   "workers' sorted runs reach the leader through temporary files, whatever the "
                                   "memory)")
    return Outcome.PERSISTS, now, ""


def _quiet_calls(snap: Snapshot, ids: set[Any], role: str | None) -> int:
    """Calls of the statements ``ids`` (of ``role``) that wrote no temporary file and compiled nothing: evidence.
    reads only those that did, so once pg_stat_statements was emptied a statement cured by the setting was never
    seen again ("did not run in the period" at every verify, c29); the whole workload's counts still show it."""
    return sum(e.calls for e in snap.workload.entries if e.queryid in ids and e.role == (role or e.role))


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
    if c.wal_bytes == 0:
        return Outcome.NOT_MEASURED, now, "no WAL written in the period"
    return (Outcome.GONE if c.wal_buffers_full < wal.MIN_BUFFERS_FULL else Outcome.PERSISTS), now, ""


def _full_pages(s: PlannedSetting, snap: Snapshot) -> Measured:
    c = snap.counters
    if c.wal_records == 0:
        return Outcome.NOT_MEASURED, {}, "no WAL written in the period"
    share = c.wal_fpi / c.wal_records
    now = {"wal_fpi": c.wal_fpi, "wal_records": c.wal_records, "fpi_share": round(share, 3),
           "checkpoints_timed": c.checkpoints_timed}
    return (Outcome.GONE if share < wal.MIN_FPI_SHARE else Outcome.PERSISTS), now, ""


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
    """Gone: hits 99%, or no more reads than the cache holds (a cache warming after the restart: each block read
    once, none read again because it was evicted)."""
    ratio = snap.counters.hit_ratio
    holds = min(snap.setting("shared_buffers").bytes or 0, snap.database_bytes) // 8192
    now = {"hit_ratio": ratio, "blocks_read": snap.counters.blks_read, "blocks_the_cache_holds": holds}
    if ratio is None:
        return Outcome.NOT_MEASURED, now, "no block was read in the period"
    if ratio >= 0.99:
        return Outcome.GONE, now, ""
    if snap.counters.blks_read <= holds:
        return Outcome.GONE, now, "a cache warming: no more blocks read than the cache holds"
    return Outcome.PERSISTS, now, ""


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
        calls = _quiet_calls(snap, ids, None)
        if calls:
            return Outcome.GONE, {"calls": calls, "jit_share": 0.0}, ""
        return Outcome.NOT_MEASURED, {}, "the statements did not run in the period"
    worst = max(jit.share(st) for st in ran)
    now = {"calls": sum(st.calls for st in ran), "jit_share": round(worst, 3)}
    return (Outcome.GONE if worst < jit.SHARE else Outcome.PERSISTS), now, ""


def _connections(s: PlannedSetting, snap: Snapshot) -> Measured:
    limit = int(snap.setting("max_connections").number)
    reserved = int(snap.setting("superuser_reserved_connections").number)
    now = {"peak_sessions": snap.peak_sessions, "max_connections": limit, "peak_sampled": snap.window}
    near = snap.peak_sessions >= connections.NEAR_LIMIT * (limit - reserved)
    return (Outcome.PERSISTS if near else Outcome.GONE), now, ""


def _preloaded(s: PlannedSetting, snap: Snapshot) -> Measured:
    if not snap.visible("shared_preload_libraries"):
        return Outcome.NOT_MEASURED, {}, "this role cannot read shared_preload_libraries"
    loaded = ddl.setting_list(snap.setting("shared_preload_libraries").setting)
    missing = [x for x in s.evidence.get("missing", []) if x not in loaded]
    now = {"shared_preload_libraries": ddl.list_setting(loaded), "missing": missing}
    return (Outcome.PERSISTS if missing else Outcome.GONE), now, ""


def _evicted(s: PlannedSetting, snap: Snapshot) -> Measured:
    if snap.statements_dealloc is None:
        return Outcome.NOT_MEASURED, {}, "pg_stat_statements_info is not readable"
    limit = int(snap.setting("pg_stat_statements.max").number)
    now = {"dealloc": snap.statements_dealloc, "entries": snap.statements_entries, "max": limit}
    full = snap.statements_entries is not None and snap.statements_entries >= extensions.FULL_SHARE * limit
    return (Outcome.PERSISTS if snap.statements_dealloc or full else Outcome.GONE), now, ""


def _qualstats(s: PlannedSetting, snap: Snapshot) -> Measured:
    if snap.qualstats_entries is None or "pg_qualstats.max" not in snap.settings:
        return Outcome.NOT_MEASURED, {}, "pg_qualstats' table is not readable here"
    limit = int(snap.setting("pg_qualstats.max").number)
    now = {"entries": snap.qualstats_entries, "max": limit}
    full = snap.qualstats_entries >= extensions.FULL_SHARE * limit
    return (Outcome.PERSISTS if full else Outcome.GONE), now, ""


def _long_texts(s: PlannedSetting, snap: Snapshot) -> Measured:
    size = snap.setting("track_activity_query_size").bytes or 0
    ids = {x["queryid"] for x in s.evidence.get("statements", [])}
    seen = [e for e in snap.workload.entries if e.queryid in ids]
    if not seen:
        return Outcome.NOT_MEASURED, {}, "the long statements are no longer in pg_stat_statements"
    longer = [e for e in seen if e.text_bytes >= size]
    now = {"track_activity_query_size_bytes": size, "longer": len(longer),
           "longest_bytes": max(e.text_bytes for e in seen)}
    return (Outcome.PERSISTS if longer else Outcome.GONE), now, ""


MEASURES = {Symptom.TEMP_SPILL: _temp_spill, Symptom.REQUESTED_CHECKPOINTS: _checkpoints,
            Symptom.WAL_BUFFERS_FULL: _wal_buffers, Symptom.DEAD_TUPLES: _dead, Symptom.NON_HOT_UPDATES: _hot,
            Symptom.CACHE_MISSES: _cache, Symptom.IDLE_IN_TRANSACTION: _idle, Symptom.JIT_OVERHEAD: _jit,
            Symptom.FULL_PAGE_IMAGES: _full_pages, Symptom.CONNECTION_LIMIT: _connections,
            Symptom.NOT_PRELOADED: _preloaded, Symptom.STATEMENTS_EVICTED: _evicted,
            Symptom.QUALSTATS_FULL: _qualstats, Symptom.LONG_TEXTS: _long_texts}
