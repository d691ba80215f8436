"""pgtune config's rules on the shared test server (read-only: no ALTER SYSTEM here): the evidence a
server really gives (session features, long texts, a non-superuser's view), and each family's rule fed
a snapshot of that server with the numbers a symptom would show (work_mem's three scopes,
max_connections, the extensions' sizes, the proposals of the issue's list), with the memory budget
judged after the restart and until it. The same rules on a live load, applied and verified, are in
tests/test_config_symptoms.py and tests/test_config_restart.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.cli import cli
from pgtune.config import Scope, Symptom, budget, connections, extensions, memory, planner, units, wal, workmem
from pgtune.config.context import Context
from pgtune.config.evidence import Counters, Sessions, Snapshot, StatementStats, capture
from pgtune.config.hardware import Hardware
from pgtune.config.model import Family, Proposal
from pgtune.config.units import GB, MB
from pgtune.config.verify import MEASURES, Outcome
from pgtune.config.workload import Entry, Kind, Workload
from pgtune.plan import PlannedSetting, SettingScope


def spill(queryid: int, role: str, calls: int, per_call: int, query: str | None = None) -> StatementStats:
    return StatementStats(queryid, query or f"SELECT x FROM t{queryid} ORDER BY x", role, calls, 10.0,
                          calls * per_call // 8192, None, None)


def queries(*rows: tuple[int, str, int]) -> Workload:
    """Query statements (queryid, role, calls), 10 ms a call."""
    return Workload(tuple(Entry(q, role, calls, 10.0 * calls, 40, Kind.QUERY, None) for q, role, calls in rows))


def context(snap: Snapshot, memory_bytes: int | None = 16 * GB, **changes: Any) -> Context:
    return Context(replace(snap, role_settings={}, **changes), Hardware(memory_bytes=memory_bytes))


@pytest.fixture
def snap(conn: psycopg.Connection[Any]) -> Snapshot:
    return capture(conn)


def test_work_mem_is_server_wide_when_every_role_spills_and_the_budget_carries_it(snap: Snapshot) -> None:
    stmts = [spill(1, "alice", 2, 7 * MB), spill(2, "bob", 4, 5 * MB)]
    ctx = context(snap, statements=stmts, workload=queries((1, "alice", 2), (2, "bob", 4), (3, "bob", 40)))
    workmem.propose(ctx)
    (p,) = ctx.proposals
    assert (p.setting, p.scope, p.value, p.symptom) == ("work_mem", Scope.RELOAD, "16MB", Symptom.TEMP_SPILL)
    assert p.evidence["roles"] == ["alice", "bob"] and p.evidence["spilling_share_of_query_time"] == 1.0
    assert p.evidence["budget_cap"] >= 16 * MB and "safe for every connection" in p.expect


def test_work_mem_stays_per_role_when_global_is_not_safe_or_spills_are_not_everywhere(snap: Snapshot) -> None:
    stmts = [spill(1, "alice", 2, 7 * MB), spill(2, "bob", 4, 5 * MB)]
    tight = context(snap, 1536 * MB, statements=stmts, workload=queries((1, "alice", 2), (2, "bob", 4)))
    workmem.propose(tight)
    assert all(p.scope == Scope.ROLE for p in tight.proposals)
    cap = budget.set_cap(tight.snap, [], 1536 * MB)
    assert cap is not None and cap < 16 * MB
    assert any("not safe" in n and "proposed per role" in n for n in tight.notes)
    assert all(int(p.value.removesuffix("MB")) * MB <= cap for p in tight.proposals)
    # carol's many queries do not spill: a server-wide value would change her plans for nothing
    some = context(snap, statements=stmts,
                   workload=queries((1, "alice", 2), (2, "bob", 4), (3, "carol", 500)))
    workmem.propose(some)
    assert sorted((p.scope, p.role) for p in some.proposals) == [(Scope.ROLE, "alice"), (Scope.ROLE, "bob")]


def test_a_few_spilling_statements_get_set_local_advice_not_the_whole_role(snap: Snapshot) -> None:
    work = queries(*[(i, "app", 100) for i in range(1, 31)])
    ctx = context(snap, statements=[spill(7, "app", 3, 9 * MB, "SELECT * FROM orders ORDER BY total")],
                  workload=work)
    workmem.propose(ctx)
    assert ctx.proposals == []
    (a,) = ctx.advice
    assert (a.family, a.symptom, a.evidence["role"], a.evidence["role_queries"]) == \
        (Family.MEMORY, Symptom.TEMP_SPILL, "app", 30)
    assert "BEGIN; SET LOCAL work_mem = '32MB'; SELECT * FROM orders ORDER BY total; COMMIT;" in a.what_changes[0]


def test_the_budget_judges_the_set_until_the_restart_and_counts_other_shared_memory(snap: Snapshot) -> None:
    def proposal(name: str, scope: Scope, value: str, role: str | None = None) -> Proposal:
        return Proposal(name, Family.MEMORY, scope, value, None, "", "", False, "", "", role=role)

    fewer = proposal("max_connections", Scope.RESTART, "10")
    big = proposal("work_mem", Scope.ROLE, "512MB", role="alice")
    after = budget.check(budget.effective(snap, [fewer, big]), 16 * GB)
    checked = budget.check_set(snap, [fewer, big], 16 * GB)
    assert after.ok and not checked.ok and checked.interim_bytes > 16 * GB > checked.total_bytes
    assert "until the restart" in checked.message and "refused" in checked.message
    more = budget.effective(snap, [proposal("pg_stat_statements.max", Scope.RESTART, "105000")])
    base = budget.effective(snap, [])
    grown = (105000 - snap.setting("pg_stat_statements.max").number) * budget.PER_UNIT["pg_stat_statements.max"]
    assert more["other_shared"] - base["other_shared"] == pytest.approx(grown)
    if "shared_memory_size" in snap.settings:        # PostgreSQL 15+: the server's own count
        total = snap.setting("shared_memory_size").bytes or 0
        assert base["other_shared"] + base["shared_buffers"] <= total


def near(snap: Snapshot, state: str, n: int, **changes: Any) -> Snapshot:
    """``n`` sessions of the application in ``state``, long-lived (no session opened in the period)."""
    return replace(snap, sessions=[Sessions("app", state, n, 5.0, 600.0)], peak_sessions=n, counters=Counters(),
                   **changes)


def test_max_connections_is_raised_for_a_full_busy_pool_when_the_budget_carries_it(snap: Snapshot) -> None:
    limit = int(snap.setting("max_connections").number)
    reserved = int(snap.setting("superuser_reserved_connections").number)
    busy = near(snap, "active", limit - reserved)
    ctx = context(busy)
    connections.propose(ctx)
    (p,) = [p for p in ctx.proposals if p.setting == "max_connections"]
    assert (p.scope, p.symptom, p.value) == (Scope.RESTART, Symptom.CONNECTION_LIMIT,
                                             str(connections.needed(limit - reserved, reserved)))
    assert p.evidence["peak_sessions"] == limit - reserved
    small = context(busy, 1 * GB)
    connections.propose(small)
    assert not [p for p in small.proposals if p.setting == "max_connections"]
    assert any("would not fit the memory budget" in n for n in small.notes)
    assert small.advice[0].title.startswith("the server is near max_connections")


def test_near_the_limit_with_idle_sessions_the_advice_is_a_pooler_naming_what_the_app_uses(snap: Snapshot) -> None:
    limit = int(snap.setting("max_connections").number)
    features = Workload((Entry(9, "app", 1200, 1.0, 30, Kind.SET, "SET search_path TO app"),
                         Entry(10, "app", 3, 1.0, 30, Kind.LISTEN, "LISTEN jobs")))
    ctx = context(near(snap, "idle", limit - 3, workload=features))
    connections.propose(ctx)
    assert not [p for p in ctx.proposals if p.setting == "max_connections"]
    (a,) = [a for a in ctx.advice if a.symptom == Symptom.CONNECTION_LIMIT]
    assert a.what_changes[0].startswith("this workload uses SET outside SET LOCAL: 1,200 calls")
    assert "LISTEN" in a.what_changes[1] and a.evidence["session_features"] == {"set": 1200, "listen": 3}
    assert any("prepared statements" in line for line in a.what_changes)


def test_max_connections_is_lowered_only_from_a_windows_peak_behind_a_pooler_or_for_held_work_mem(
        snap: Snapshot) -> None:
    limit = int(snap.setting("max_connections").number)
    reserved = int(snap.setting("superuser_reserved_connections").number)
    pooled = near(snap, "idle", 4, pooler_sessions={"pgbouncer": 4})
    once = context(pooled)
    connections.propose(once)
    assert not [p for p in once.proposals if p.setting == "max_connections"]     # one reading: not enough
    ctx = context(replace(pooled, window=True))
    connections.propose(ctx)
    (p,) = [p for p in ctx.proposals if p.setting == "max_connections"]
    assert int(p.value) == connections.needed(4, reserved) < limit
    assert p.evidence["pooler_signs"] == ["4 session(s) of application_name 'pgbouncer'"]
    assert p.evidence["work_mem_cap_after_restart"] > p.evidence["work_mem_cap_now"]
    held = context(near(snap, "active", 4, window=True), 2 * GB)
    cap_now = budget.set_cap(held.snap, [], 2 * GB) or 0
    held.work_mem_held = cap_now + 4 * MB          # a spill the budget held back a little
    connections.propose(held)
    (q,) = [p for p in held.proposals if p.setting == "max_connections"]
    assert q.evidence["work_mem_cap_after_restart"] >= held.work_mem_held and "next pgtune config run" in q.expect
    unpooled = context(near(snap, "active", 4, window=True), 2 * GB, pooler_sessions={})
    unpooled.pooler = False
    connections.propose(unpooled)
    assert not [p for p in unpooled.proposals if p.setting == "max_connections"]   # nothing to gain


def test_the_extensions_pgtune_reads_are_sized_from_how_full_they_are(snap: Snapshot) -> None:
    pgss_max = int(snap.setting("pg_stat_statements.max").number)
    evicted = context(snap, statements_dealloc=12, statements_entries=pgss_max)
    extensions.propose(evicted)
    (p,) = [p for p in evicted.proposals if p.setting == "pg_stat_statements.max"]
    assert (p.scope, p.symptom, p.value) == (Scope.RESTART, Symptom.STATEMENTS_EVICTED,
                                             str(max(10_000, 2 * pgss_max)))
    assert p.evidence["dealloc"] == 12
    calm = context(snap, statements_dealloc=0, statements_entries=10)
    extensions.propose(calm)
    assert not [p for p in calm.proposals if p.setting == "pg_stat_statements.max"]
    if "pg_qualstats.max" in snap.settings:
        qmax = int(snap.setting("pg_qualstats.max").number)
        full = context(snap, qualstats_entries=qmax, qualstats_statements=50, qualstats_tracked=800)
        extensions.propose(full)
        (q,) = [p for p in full.proposals if p.setting == "pg_qualstats.max"]
        assert q.symptom == Symptom.QUALSTATS_FULL and int(q.value) == max(2 * qmax, qmax // 50 * 800)


def test_texts_longer_than_track_activity_query_size_and_session_features_are_read_from_the_server(
        db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE jobs (id int, payload text)")
    long = "SELECT id FROM jobs WHERE " + " OR ".join(f"payload = 'value number {i}'" for i in range(120))
    with psycopg.connect(db, autocommit=True, application_name="pgbouncer") as app:
        app.execute(long).fetchall()
        app.execute("SET search_path TO public")
        app.execute("SELECT pg_advisory_lock(42)")
        app.execute("LISTEN jobs_done")
        app.execute("CREATE TEMP TABLE scratch (id int)")
        app.execute("PREPARE one AS SELECT 1")
        app.execute("EXECUTE one")
        app.execute("DISCARD ALL")
        snap = capture(conn)
        assert snap.pooler_sessions == {"pgbouncer": 1}
    kinds = {f.kind for f in snap.workload.features()}
    assert {Kind.SET, Kind.ADVISORY_LOCK, Kind.LISTEN, Kind.TEMPORARY_TABLE, Kind.PREPARE} <= kinds
    assert snap.workload.features((Kind.DISCARD_ALL,))[0].calls == 1
    ctx = context(snap)
    extensions.propose(ctx)
    (p,) = [p for p in ctx.proposals if p.setting == "track_activity_query_size"]
    size = snap.setting("track_activity_query_size").bytes or 0
    longest = p.evidence["longest_bytes"]
    assert longest >= size and p.scope == Scope.RESTART and p.symptom == Symptom.LONG_TEXTS
    assert p.value == units.size(1 << longest.bit_length()) and units.parse_size(p.value) > longest
    assert "DISCARD ALL ran 1 times" in connections.pooled(context(snap))[1]


def test_a_role_that_is_no_superuser_gets_its_report_with_what_it_could_not_read(
        db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("DROP ROLE IF EXISTS cfg_reader")
    conn.execute("CREATE ROLE cfg_reader LOGIN")
    try:
        dsn = psycopg.conninfo.make_conninfo(db, user="cfg_reader")
        out = CliRunner().invoke(cli, ["config", "--dsn", dsn, "--memory", "8GB"])
        assert out.exit_code == 0, out.output
        # Its libraries show themselves (the view answers, pg_qualstats' setting exists): no "cannot read
        # shared_preload_libraries" note where check says preloaded (u12, 6c50b3b).
        assert "cannot read shared_preload_libraries" not in out.output
        assert "sees only its own statements" in out.output and "Traceback" not in out.output
    finally:
        conn.execute("DROP ROLE cfg_reader")


def test_every_proposal_the_issue_lists_comes_with_its_evidence(snap: Snapshot) -> None:
    settings = dict(snap.settings)
    for name, value in (("checkpoint_completion_target", "0.5"), ("track_io_timing", "off"),
                        ("autovacuum_work_mem", "-1"), ("min_wal_size", "80")):
        settings[name] = replace(settings[name], setting=value, shown=value,
                                 source="default" if name == "min_wal_size" else settings[name].source)
    counters = Counters(checkpoints_timed=5, checkpoints_requested=6, wal_bytes=8 * GB, wal_records=1_000_000,
                        wal_fpi=400_000, wal_buffers_full=5000, blks_read=10, blks_hit=1000)
    index = spill(5, "postgres", 1, 100 * MB, "CREATE INDEX t_x_idx ON t (x)")     # spilled under maintenance
    ctx = context(snap, 2 * GB, settings=settings, counters=counters, statements=[index],
                  # the application's writes, wrote the counters' WAL: made up as the counters are
                  workload=Workload((Entry(7, "app", 50_000, 9_000.0, 60, Kind.QUERY, None, wal_bytes=7.5 * GB),)))
    memory.propose(ctx)
    wal.propose(ctx)
    planner.propose(ctx)
    by = {p.setting: p for p in ctx.proposals}
    for name in ("effective_cache_size", "maintenance_work_mem", "autovacuum_work_mem", "max_wal_size",
                 "min_wal_size", "checkpoint_timeout", "checkpoint_completion_target", "wal_buffers",
                 "track_io_timing"):
        assert name in by, (name, sorted(by))
        assert by[name].why and by[name].expect and name in by[name].evidence
    assert by["checkpoint_timeout"].symptom == Symptom.FULL_PAGE_IMAGES
    assert by["checkpoint_timeout"].evidence["fpi_share"] == 0.4
    assert by["wal_buffers"].scope == Scope.RESTART and by["wal_buffers"].symptom == Symptom.WAL_BUFFERS_FULL
    mwm = by["maintenance_work_mem"]
    assert (mwm.value, mwm.symptom, mwm.evidence["statements"][0]["queryid"]) == ("128MB", Symptom.TEMP_SPILL, 5)


def planned(name: str, symptom: Symptom, scope: SettingScope = SettingScope.RELOAD, **evidence: Any) -> PlannedSetting:
    return PlannedSetting(scope, name, "x", None, "", "", "", "", symptom=str(symptom), evidence=evidence)


def test_verify_measures_the_symptom_of_every_family(snap: Snapshot) -> None:
    """Each symptom a proposal carries has its measure: the numbers of the period verify reads."""
    assert set(Symptom) - set(MEASURES) == {Symptom.NONE, Symptom.SHORT_CONNECTIONS}   # none; advice only
    fpi = MEASURES[Symptom.FULL_PAGE_IMAGES]
    calm = replace(snap, counters=Counters(wal_records=1000, wal_fpi=50, checkpoints_timed=2))
    assert fpi(planned("checkpoint_timeout", Symptom.FULL_PAGE_IMAGES), calm)[0] == Outcome.GONE
    noisy = replace(snap, counters=Counters(wal_records=1000, wal_fpi=500))
    assert fpi(planned("checkpoint_timeout", Symptom.FULL_PAGE_IMAGES), noisy)[0] == Outcome.PERSISTS
    preload = planned("shared_preload_libraries", Symptom.NOT_PRELOADED, missing=["pg_stat_statements"])
    assert MEASURES[Symptom.NOT_PRELOADED](preload, snap)[0] == Outcome.GONE
    missing = planned("shared_preload_libraries", Symptom.NOT_PRELOADED, missing=["pg_nothing"])
    assert MEASURES[Symptom.NOT_PRELOADED](missing, snap)[0] == Outcome.PERSISTS
    limit = int(snap.setting("max_connections").number)
    conns = planned("max_connections", Symptom.CONNECTION_LIMIT, SettingScope.RESTART)
    assert MEASURES[Symptom.CONNECTION_LIMIT](conns, replace(snap, peak_sessions=2))[0] == Outcome.GONE
    assert MEASURES[Symptom.CONNECTION_LIMIT](conns, replace(snap, peak_sessions=limit))[0] == Outcome.PERSISTS
    evicted = planned("pg_stat_statements.max", Symptom.STATEMENTS_EVICTED, SettingScope.RESTART)
    assert MEASURES[Symptom.STATEMENTS_EVICTED](evicted, replace(snap, statements_dealloc=3))[0] == Outcome.PERSISTS
    assert MEASURES[Symptom.STATEMENTS_EVICTED](evicted, replace(snap, statements_dealloc=0, statements_entries=5)
                                                )[0] == Outcome.GONE
    cache = planned("shared_buffers", Symptom.CACHE_MISSES, SettingScope.RESTART)
    blocks = (snap.setting("shared_buffers").bytes or 0) // 8192
    warming = replace(snap, counters=Counters(blks_read=min(blocks, snap.database_bytes // 8192), blks_hit=1),
                      database_bytes=snap.database_bytes)
    outcome, _, note = MEASURES[Symptom.CACHE_MISSES](cache, warming)
    assert outcome == Outcome.GONE and "warming" in note
    evicting = replace(snap, counters=Counters(blks_read=blocks * 3 + 10, blks_hit=1))
    assert MEASURES[Symptom.CACHE_MISSES](cache, evicting)[0] == Outcome.PERSISTS
