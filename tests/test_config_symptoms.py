"""Issue 26: one test per symptom, on a real server of their own (pgtune config changes server settings).

Each test provokes the symptom with a load, shows the proposal with its
evidence, applies the migration, runs the same load again and shows the
symptom gone, then rolls back: pg_settings (value, source, pending_restart),
postgresql.auto.conf, role settings and table reloptions exactly as before.
The cluster is this module's own (ALTER SYSTEM never touches the shared
test server) and is left as it was found after every test.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune import api
from pgtune.cluster import LocalCluster, find_bindir
from pgtune.config import ConfigOptions, Scope, Storage, Symptom, evidence
from pgtune.config.verify import Outcome

SETTINGS = {
    "shared_buffers": "16MB",          # small: a 60 MB table misses it (the restart-level test)
    "max_wal_size": "32MB",            # small: a write burst requests checkpoints
    "min_wal_size": "32MB",
    "autovacuum_naptime": "1s",        # autovacuum looks at once: only its thresholds decide
    "autovacuum_vacuum_cost_delay": "0",   # and, once started, is not slowed down on a busy machine
    "fsync": "off",
}
HARDWARE = ConfigOptions(memory=8 << 30, cpus=2, storage=Storage.HDD)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    import os
    bindir = os.environ.get("PGTUNE_PG_BINDIR")
    c = LocalCluster(Path(bindir) if bindir else find_bindir(), settings=SETTINGS).start()
    try:
        yield c
    finally:
        c.stop()


_n = iter(range(1, 1000))


@pytest.fixture
def dsn(cluster: LocalCluster) -> Iterator[str]:
    name = f"cfg{next(_n)}"
    with psycopg.connect(cluster.dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(cluster.dsn_for(name), autocommit=True) as c:
        c.execute("CREATE EXTENSION pg_stat_statements")
    yield cluster.dsn_for(name)
    with psycopg.connect(cluster.dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def server_state(conn: psycopg.Connection[Any], cluster: LocalCluster) -> dict[str, Any]:
    """Everything a config migration may touch, as a new session sees it (never pgtune's own session settings)."""
    with psycopg.connect(conn.info.dsn, autocommit=True) as fresh:
        return _state(fresh, cluster)


def changed_since(conn: psycopg.Connection[Any], cluster: LocalCluster, start: dict[str, Any]) -> list[Any]:
    """What differs from ``start`` (a reload reaches the postmaster a moment after pg_reload_conf: polled)."""
    diff: list[Any] = []
    for _ in range(20):
        now = server_state(conn, cluster)
        diff = [(k, [x for x in now[k] if x not in start[k]] if k != "auto.conf" else now[k])
                for k in start if now[k] != start[k]]
        if not diff:
            return []
        time.sleep(0.1)
    return diff


def _state(conn: psycopg.Connection[Any], cluster: LocalCluster) -> dict[str, Any]:
    settings = conn.execute("SELECT name, setting, source FROM pg_settings ORDER BY name").fetchall()
    # A restart-only setting whose default is computed at start (wal_buffers -1 → 1/32 of shared_buffers) stays
    # pending_restart after SET, RESET and a reload: PostgreSQL compares the file's -1 with the value it computed.
    # Its value, source and postgresql.auto.conf are back exactly; only a restart clears that flag.
    pending = conn.execute("SELECT name FROM pg_settings WHERE pending_restart "
                           "AND NOT (context = 'postmaster' AND boot_val = '-1' AND source = 'default') "
                           "ORDER BY name").fetchall()
    roles = conn.execute("SELECT setrole, setdatabase, setconfig FROM pg_db_role_setting ORDER BY 1, 2").fetchall()
    tables = conn.execute("SELECT oid::regclass::text, reloptions FROM pg_class WHERE relkind = 'r' "
                          "AND relnamespace = 'public'::regnamespace ORDER BY 1").fetchall()
    auto = (cluster.datadir / "postgresql.auto.conf").read_bytes()
    return {"settings": settings, "pending_restart": pending, "roles": roles, "tables": tables, "auto.conf": auto}


def flush(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SELECT pg_stat_force_next_flush()")
    time.sleep(0.6)     # other backends publish their counters within a second


def around(conn: psycopg.Connection[Any], load: Callable[[], None],
           prepare: Callable[[], None] | None = None) -> evidence.Snapshot:
    """The evidence of exactly one run of ``load`` (``prepare`` runs first, outside the window)."""
    if prepare is not None:
        prepare()
    flush(conn)
    before = evidence.capture(conn)
    load()
    flush(conn)
    return evidence.window(before, evidence.capture(conn))


def propose_apply_verify(conn: psycopg.Connection[Any], cluster: LocalCluster, tmp_path: Path,
                         load: Callable[[], None], symptom: Symptom,
                         prepare: Callable[[], None] | None = None) -> tuple[Any, Any, Any]:
    """Provoke, propose, apply, run the load again, judge, roll back; return (proposal, check, migration dir)."""
    start = server_state(conn, cluster)
    first = around(conn, load, prepare)
    report = api.config(conn, HARDWARE, evidence=first, emit=api.EmitOptions(directory=tmp_path / "m"))
    found = [p for p in report.proposals if p.symptom == symptom]
    assert found, [(p.setting, p.why) for p in report.proposals]
    api.apply(conn, tmp_path / "m")
    second = around(conn, load, prepare)
    result = api.config_verify(conn, tmp_path / "m", evidence=second)
    checks = [c for c in result.checks if c.symptom == symptom]
    api.rollback(conn, tmp_path / "m")
    assert changed_since(conn, cluster, start) == []
    return found[0], checks[0], result


def app(dsn: str, user: str | None = None) -> psycopg.Connection[Any]:
    """A fresh application session, never one pgtune's library touched."""
    return psycopg.connect(dsn, autocommit=True, **({"user": user} if user else {}))


@pytest.fixture
def login_role(dsn: str) -> Iterator[Callable[[str], str]]:
    """Makes an application's LOGIN role (roles are the cluster's); after the test it is dropped with what it owns
    in the test's database and its own settings."""
    made: list[str] = []

    def make(name: str) -> str:
        with app(dsn) as c:
            c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
            c.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
        made.append(name)
        return name

    yield make
    with app(dsn) as c:
        for name in made:
            c.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
            c.execute(sql.SQL("ALTER ROLE {} RESET ALL").format(sql.Identifier(name)))
            c.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def spilling_sorts(dsn: str, role: str) -> Callable[[], None]:
    """A table ``role`` may read, and the load: two sorts of its 300,000 strings, each spilling under work_mem."""
    with app(dsn) as c:
        c.execute("CREATE TABLE big AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 300000) g")
        c.execute(sql.SQL("GRANT SELECT ON big TO {}").format(sql.Identifier(role)))

    def load() -> None:
        with app(dsn, role) as r:
            for _ in range(2):
                r.execute("SELECT count(*) FROM (SELECT t FROM big ORDER BY t OFFSET 1) s").fetchone()

    return load


def test_sorts_spilling_under_a_small_work_mem_get_the_role_a_larger_one(
        dsn: str, cluster: LocalCluster, tmp_path: Path, login_role: Callable[[str], str]) -> None:
    load = spilling_sorts(dsn, login_role("reporter"))
    with app(dsn) as conn:
        p, check, _ = propose_apply_verify(conn, cluster, tmp_path, load, Symptom.TEMP_SPILL)
    assert (p.setting, p.scope, p.role) == ("work_mem", Scope.ROLE, "reporter")
    assert p.evidence["temp_bytes"] > 4 << 20 and "ORDER BY t" in p.evidence["statements"][0]["query"]
    assert check.before["temp_bytes"] > 0 and check.now["temp_bytes"] == 0 and check.outcome == Outcome.GONE


def test_pg_stat_statements_in_a_schema_off_the_search_path_is_read_where_it_is(
        dsn: str, cluster: LocalCluster, tmp_path: Path, login_role: Callable[[str], str]) -> None:
    """Supabase installs pg_stat_statements in schema ``extensions``: pgtune reads it there (the spills of a role
    seen, proposed, gone after apply), not through the search_path."""
    with app(dsn) as c:
        c.execute("DROP EXTENSION pg_stat_statements")
        c.execute("CREATE SCHEMA extensions")
        c.execute("CREATE EXTENSION pg_stat_statements SCHEMA extensions")
    load = spilling_sorts(dsn, login_role("analyst"))
    with app(dsn) as conn:
        assert conn.execute("SELECT to_regclass('pg_stat_statements')").fetchone() == (None,)
        p, check, _ = propose_apply_verify(conn, cluster, tmp_path, load, Symptom.TEMP_SPILL)
    assert (p.setting, p.scope, p.role) == ("work_mem", Scope.ROLE, "analyst")
    assert "ORDER BY t" in p.evidence["statements"][0]["query"]
    assert check.before["temp_bytes"] > 0 and check.now["temp_bytes"] == 0 and check.outcome == Outcome.GONE


def write_burst(c: psycopg.Connection[Any]) -> None:
    """The application's writes, 250,000 rows in 50 calls of one statement (a statement run once or twice is a
    load, whose WAL config does not size for: test_a_load_s_wal_is_not_the_application_s)."""
    for i in range(50):
        c.execute("INSERT INTO events SELECT g, repeat(md5(g::text), 4) FROM generate_series(%s::int, %s::int) g",
                  (i * 5000 + 1, (i + 1) * 5000))


def test_a_write_burst_under_a_small_max_wal_size_stops_requesting_checkpoints(
        dsn: str, cluster: LocalCluster, tmp_path: Path) -> None:
    with app(dsn) as c:
        c.execute("CREATE TABLE events (id bigint, payload text)")

    def load() -> None:
        with app(dsn) as c:
            write_burst(c)

    with app(dsn) as conn:
        p, check, _ = propose_apply_verify(conn, cluster, tmp_path, load, Symptom.REQUESTED_CHECKPOINTS,
                                           lambda: fresh_checkpoint(dsn))   # both runs: outside the window
    assert (p.setting, p.scope, p.current, p.source) == ("max_wal_size", Scope.RELOAD, "32MB", "configuration file")
    assert p.evidence["checkpoints_requested"] >= 2
    assert check.now["checkpoints_requested"] == 0 and check.outcome == Outcome.GONE



def test_a_load_s_wal_is_not_the_application_s(dsn: str, cluster: LocalCluster, tmp_path: Path) -> None:
    """u2's R7: one bulk INSERT … SELECT and an index build request checkpoints; max_wal_size is not sized for them."""
    _not_sized_for(dsn, ["INSERT INTO loaded SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 250000) g",
                         "CREATE INDEX ON loaded (payload)"], "one-off", requested=2)


def test_wal_written_before_the_statements_counts_began_is_not_the_application_s(
        dsn: str, cluster: LocalCluster, tmp_path: Path) -> None:
    """u8: a load, then pg_stat_statements_reset(), then the application: the server's WAL counters hold the load,
    pg_stat_statements only the application's statements, whose WAL is a sliver of it. Not sized for the load."""
    _not_sized_for(dsn, ["INSERT INTO loaded SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 250000) g",
                         "SELECT pg_stat_statements_reset()",
                         *(f"INSERT INTO loaded VALUES ({i}, 'app')" for i in range(20))],
                   "the statements pg_stat_statements counts", requested=1)


def _not_sized_for(dsn: str, load: list[str], why: str, requested: int) -> None:
    """``load`` run in a window that requests checkpoints: neither max_wal_size nor wal_buffers sized for it, and a
    note that says ``why``."""
    with app(dsn) as c:
        c.execute("CREATE TABLE IF NOT EXISTS loaded (id bigint, payload text)")

    def run_load() -> None:
        with app(dsn) as c:
            for statement in load:
                c.execute(statement)

    with app(dsn) as conn:
        seen = around(conn, run_load, lambda: fresh_checkpoint(dsn))
        assert seen.counters.checkpoints_requested >= requested     # not vacuous: the symptom is there
        report = api.config(conn, HARDWARE, evidence=seen)
        assert not [p for p in report.proposals if p.setting in ("max_wal_size", "wal_buffers")]
        assert any(n.startswith("max_wal_size and wal_buffers not sized") and why in n for n in report.notes), \
            report.notes
        conn.execute("DROP TABLE loaded")


def wait_for(check: Callable[[], bool], seconds: float = 30.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.5)
    return check()


def table_stats(dsn: str, table: str) -> tuple[int, int]:
    """(n_dead_tup, autovacuum_count) of ``table`` as the server has them now."""
    with app(dsn) as c:
        c.execute("SELECT pg_stat_force_next_flush()")
        row = c.execute("SELECT n_dead_tup, autovacuum_count FROM pg_stat_user_tables WHERE relname = %s",
                        (table,)).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)


def autovacuum_pass(dsn: str) -> None:
    """Wait for one whole autovacuum pass over this database that began after everything written so far.

    A table with a zero threshold ("sentinel") is dirtied now: the worker that vacuums it drew up its list of
    tables after this moment, judging every other table on all the counts published before it; once no worker
    is left in the database, that pass — and whatever else it vacuumed — is over. So a table autovacuum leaves
    alone was judged and passed by, not merely not reached yet, however slow the machine.
    """
    before = table_stats(dsn, "sentinel")[1]
    with app(dsn) as c:
        c.execute("UPDATE sentinel SET n = n + 1")
        c.execute("SELECT pg_stat_force_next_flush()")      # published before this returns
    assert wait_for(lambda: table_stats(dsn, "sentinel")[1] > before, 120), "no autovacuum pass within 120 s"
    assert wait_for(lambda: _no_worker(dsn), 120), "an autovacuum worker still busy after 120 s"


def _no_worker(dsn: str) -> bool:
    with app(dsn) as c:
        row = c.execute("SELECT count(*) FROM pg_stat_activity "
                        "WHERE backend_type = 'autovacuum worker' AND datname = current_database()").fetchone()
        return row is not None and row[0] == 0


def test_a_table_churned_by_updates_gets_autovacuum_sooner(dsn: str, cluster: LocalCluster, tmp_path: Path) -> None:
    """15,000 of 200,000 rows (7.5%) updated: above pgtune's 5%, below autoanalyze's 10% + 50 (nothing re-counts
    the dead tuples) and autovacuum's 20% + 50. Each run ends with a whole autovacuum pass over the database, so
    the first run shows autovacuum passing the table by, the second one vacuuming it — whatever the machine's
    load."""
    with app(dsn) as c:
        c.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, note text)")
        c.execute("INSERT INTO accounts SELECT g, 0, md5(g::text) FROM generate_series(1, 200000) g")
        c.execute("VACUUM ANALYZE accounts")
        c.execute("CREATE TABLE sentinel (n int) WITH (autovacuum_vacuum_threshold = 0, "
                  "autovacuum_vacuum_scale_factor = 0, autovacuum_analyze_threshold = 0)")
        c.execute("INSERT INTO sentinel VALUES (0)")
        c.execute("VACUUM ANALYZE sentinel")
    # The INSERT's counts may reach the statistics after the VACUUM (a backend flushes them at most once a
    # second), so autovacuum would see 200,000 inserts since the last vacuum and run inside the first window:
    # let that happen now, before the evidence is taken.
    autovacuum_pass(dsn)
    offset = iter(range(0, 200000, 15000))

    def load() -> None:
        start = next(offset)
        with app(dsn) as c:
            for lo in range(start, start + 15000, 1000):
                c.execute("UPDATE accounts SET balance = balance + 1 WHERE id > %s AND id <= %s", (lo, lo + 1000))
            c.execute("SELECT pg_stat_force_next_flush()")  # the counts are published before the pass is asked
        autovacuum_pass(dsn)

    with app(dsn) as conn:
        p, check, _ = propose_apply_verify(conn, cluster, tmp_path, load, Symptom.DEAD_TUPLES)
    assert (p.setting, p.scope, p.table, p.value) == ("autovacuum_vacuum_scale_factor", Scope.TABLE, "accounts", "0.02")
    assert p.evidence["dead"] >= 14000 and p.evidence["autovacuums"] == 0 and p.evidence["vacuum_trigger"] == 40050
    assert check.now["dead"] < 0.05 * 200000 and check.now["autovacuums"] >= 1 and check.outcome == Outcome.GONE, check


def test_updates_that_are_never_hot_get_a_fillfactor(dsn: str, cluster: LocalCluster, tmp_path: Path) -> None:
    with app(dsn) as c:
        c.execute("CREATE TABLE orders (id int PRIMARY KEY, status text NOT NULL, total int, note text, "
                  "payment_ref text)")
    batch = iter(range(0, 10_000_000, 20000))

    def load() -> None:
        """The application's day: 20,000 new orders, then each is paid (a transaction each): its row grows by the
        payment reference, no indexed column changes."""
        lo = next(batch)
        with app(dsn) as c:
            c.execute("INSERT INTO orders SELECT g, 'new', g %% 100, repeat('x', 20) "
                      "FROM generate_series(%s::int, %s::int) g", (lo + 1, lo + 20000))
            for i in range(lo + 1, lo + 20001):
                c.execute("UPDATE orders SET status = %s, payment_ref = %s WHERE id = %s", ("paid", f"pi_{i:0100d}", i))

    with app(dsn) as conn:
        p, check, _ = propose_apply_verify(conn, cluster, tmp_path, load, Symptom.NON_HOT_UPDATES)
    assert (p.setting, p.scope, p.table, p.value) == ("fillfactor", Scope.TABLE, "orders", "60")
    assert p.evidence["hot_share"] < 0.5
    # PostgreSQL 16+ counts the updates that left their page; before, pgtune reads the UPDATE's columns
    assert p.evidence.get("updated_columns", ["payment_ref", "status"]) == ["payment_ref", "status"]
    assert "updated_columns" in p.evidence or p.evidence["newpage_updates"] >= 0.5 * (20000 - p.evidence["hot_updates"])
    assert check.now["hot_share"] >= 0.5 and check.outcome == Outcome.GONE, check


def fresh_checkpoint(dsn: str) -> None:
    """A run starts from a checkpoint the checkpointer has counted, outside the window (it counts it a moment
    after CHECKPOINT returns, so wait until it has)."""
    with app(dsn) as c:
        view = ("pg_stat_checkpointer", "num_requested") if c.info.server_version >= 170000 else \
            ("pg_stat_bgwriter", "checkpoints_req")
        count = sql.SQL("SELECT {} FROM {}").format(sql.Identifier(view[1]), sql.Identifier(view[0]))
        before = c.execute(count).fetchone()
        c.execute("CHECKPOINT")
        assert wait_for(lambda: c.execute(count).fetchone() != before, 10)


def test_on_a_managed_platform_the_server_wide_settings_are_the_platforms_commands_in_the_emit_folder(
        dsn: str, cluster: LocalCluster, tmp_path: Path) -> None:
    """A role that may not ALTER SYSTEM on a managed platform (Supabase, told by its supabase_admin role): the
    write burst's max_wal_size is not in the migration but written beside it, as the platform's command, in
    platform-changes.sh. The test then plays the platform (the command's value, put in force), and the same burst
    requests no checkpoint."""
    with app(dsn) as c:
        start = server_state(c, cluster)
        c.execute("CREATE ROLE supabase_admin NOLOGIN")
        c.execute("CREATE ROLE webapp LOGIN IN ROLE pg_read_all_stats")
        c.execute("CREATE TABLE events (id bigint, payload text)")
        c.execute("GRANT INSERT ON events TO webapp")

    def load() -> None:
        with app(dsn, "webapp") as w:
            write_burst(w)

    try:
        with app(dsn, "webapp") as conn:
            report = api.config(conn, HARDWARE, evidence=around(conn, load, lambda: fresh_checkpoint(dsn)),
                                emit=api.EmitOptions(directory=tmp_path / "m"))
            assert (report.platform, report.alter_system) == ("supabase", False)
            (p,) = [p for p in report.proposals if p.setting == "max_wal_size"]
            assert p.scope == Scope.RELOAD and p.evidence["checkpoints_requested"] >= 2
            assert report.migration is not None and report.migration["platform_changes"]
            script = Path(report.migration["platform_changes"]).read_text()
            assert script == (tmp_path / "m" / "platform-changes.sh").read_text()
            assert f"# max_wal_size: 32MB -> {p.value} (in force after a reload): " in script
            command = next(line for line in script.splitlines() if line.startswith("supabase "))
            assert command in report.platform_changes and "ALTER SYSTEM SET" not in script
            manifest = (tmp_path / "m" / "manifest.json")
            assert not manifest.exists() or "max_wal_size" not in manifest.read_text()
        found = re.search(r"max_wal_size=([^,\s]+)", command)
        assert found is not None and found.group(1) == p.value
        with app(dsn) as c:                       # the platform puts the command's value in force
            c.execute(sql.SQL("ALTER SYSTEM SET max_wal_size = {}").format(sql.Literal(found.group(1))))
            c.execute("SELECT pg_reload_conf()")
        with app(dsn, "webapp") as conn:
            assert wait_for(lambda: conn.execute("SHOW max_wal_size").fetchone() == (p.value,), 10)
            again = around(conn, load, lambda: fresh_checkpoint(dsn))
            assert again.counters.checkpoints_requested == 0
            assert not [q for q in api.config(conn, HARDWARE, evidence=again).proposals if q.setting == "max_wal_size"]
    finally:
        with app(dsn) as c:
            c.execute("ALTER SYSTEM RESET max_wal_size")
            c.execute("SELECT pg_reload_conf()")
            c.execute("DROP TABLE IF EXISTS events")
            c.execute("DROP ROLE IF EXISTS webapp")
            c.execute("DROP ROLE IF EXISTS supabase_admin")
        with app(dsn) as c:
            assert changed_since(c, cluster, start) == []


def test_many_short_connections_get_a_pooler_with_what_it_changes(dsn: str, cluster: LocalCluster) -> None:
    """No server setting fixes connecting per request: pgtune says pool, with the numbers. The same requests
    through one pooled connection (what a pooler gives the server) no longer show it."""
    def per_request() -> None:
        for _ in range(150):
            with app(dsn) as c:
                c.execute("SELECT 1").fetchone()

    def pooled() -> None:
        with app(dsn) as c:
            for _ in range(150):
                c.execute("SELECT 1").fetchone()

    with app(dsn) as conn:
        start = server_state(conn, cluster)
        report = api.config(conn, HARDWARE, evidence=around(conn, per_request))
        advice = [a for a in report.advice if a.symptom == Symptom.SHORT_CONNECTIONS]
        assert advice and advice[0].evidence["sessions"] >= 150 and advice[0].evidence["mean_session_ms"] < 1000
        assert any("prepared statements" in line for line in advice[0].what_changes)
        assert any("SET LOCAL" in line for line in advice[0].what_changes)
        again = api.config(conn, HARDWARE, evidence=around(conn, pooled))
        assert not [a for a in again.advice if a.symptom == Symptom.SHORT_CONNECTIONS]
        assert changed_since(conn, cluster, start) == []


def test_a_restart_level_change_is_written_pending_and_nothing_restarts(
        dsn: str, cluster: LocalCluster, tmp_path: Path) -> None:
    with app(dsn) as c:
        c.execute("CREATE TABLE history AS SELECT g AS id, repeat(md5(g::text), 4) AS body "
                  "FROM generate_series(1, 300000) g")      # ~60 MB against shared_buffers 16MB

    def load() -> None:
        with app(dsn) as c:
            for _ in range(2):
                c.execute("SELECT count(*) FROM history WHERE body LIKE '%zz%'").fetchone()

    with app(dsn) as conn:
        start = server_state(conn, cluster)
        started = conn.execute("SELECT pg_postmaster_start_time()").fetchone()
        report = api.config(conn, HARDWARE, evidence=around(conn, load),
                            emit=api.EmitOptions(directory=tmp_path / "m"))
        p = next(p for p in report.proposals if p.setting == "shared_buffers")
        assert (p.scope, p.current, p.source) == (Scope.RESTART, "16MB", "configuration file")
        assert p.evidence["hit_ratio"] < 0.99 and p.evidence["database_bytes"] > 16 << 20
        ups = [f.read_text() for f in sorted((tmp_path / "m").glob("*_up.sql"))]
        script = next(s for s in ups if "shared_buffers" in s)
        assert "ALTER SYSTEM SET shared_buffers" in script and "never restarts" in script
        api.apply(conn, tmp_path / "m")
        st = api.status(conn, tmp_path / "m")
        sb = next(s for s in st.settings if s.name == "shared_buffers")
        assert sb.pending_restart and sb.in_force == "16MB" and sb.now == p.value and st.ok
        assert conn.execute("SELECT pg_postmaster_start_time()").fetchone() == started
        check = next(c for c in api.config_verify(conn, tmp_path / "m", evidence=around(conn, load)).checks
                     if c.name == "shared_buffers")
        assert check.outcome == Outcome.NOT_IN_FORCE and "restart" in check.note
        api.rollback(conn, tmp_path / "m")
        assert changed_since(conn, cluster, start) == []
        assert conn.execute("SELECT pg_postmaster_start_time()").fetchone() == started


def test_statements_that_spend_their_time_compiling_get_jit_off_for_their_role(
        dsn: str, cluster: LocalCluster, tmp_path: Path, login_role: Callable[[str], str]) -> None:
    with app(dsn) as c:
        if c.execute("SELECT pg_jit_available()").fetchone() != (True,):
            pytest.skip("this server has no JIT provider (llvmjit)")
    login_role("analyst")
    with app(dsn) as c:
        # the misconfiguration: every plan of this role compiles, however short its work
        c.execute("ALTER ROLE analyst SET jit_above_cost = 0")
        c.execute("ALTER ROLE analyst SET jit_optimize_above_cost = 0")
        c.execute("CREATE TABLE counters AS SELECT g AS id, g % 7 AS kind FROM generate_series(1, 2000) g")
        c.execute("GRANT SELECT ON counters TO analyst")

    def load() -> None:
        with app(dsn, "analyst") as a:
            for k in range(7):
                a.execute("SELECT kind, count(*), sum(id) FROM counters WHERE kind = %s GROUP BY kind", (k,))

    with app(dsn) as conn:
        p, check, _ = propose_apply_verify(conn, cluster, tmp_path, load, Symptom.JIT_OVERHEAD)
    assert (p.setting, p.scope, p.role, p.value) == ("jit", Scope.ROLE, "analyst", "off")
    assert p.evidence["statements"][0]["jit_share"] >= 0.3
    assert check.outcome == Outcome.GONE and check.now["jit_share"] < 0.3, check


def test_sessions_idle_in_a_transaction_get_a_timeout_for_their_role(
        dsn: str, cluster: LocalCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        login_role: Callable[[str], str]) -> None:
    """Seconds here stand for minutes in production: a session idle in its transaction for 4 s is reported from
    1 s on, and gets a 2 s timeout."""
    from pgtune.config import connections

    monkeypatch.setattr(connections, "IDLE_IN_TX_S", 1.0)
    monkeypatch.setattr(connections, "IDLE_IN_TX_TIMEOUT", "2s")
    login_role("clerk")

    def idle_in_transaction(conn: psycopg.Connection[Any]) -> evidence.Snapshot:
        """The clerk opens a transaction and walks away; the evidence is read while it is still open."""
        before = evidence.capture(conn)
        clerk = app(dsn, "clerk")
        clerk.execute("BEGIN")
        clerk.execute("SELECT 1")
        time.sleep(4)
        snap = evidence.window(before, evidence.capture(conn))
        clerk.close()
        return snap

    with app(dsn) as conn:
        start = server_state(conn, cluster)
        report = api.config(conn, HARDWARE, evidence=idle_in_transaction(conn),
                            emit=api.EmitOptions(directory=tmp_path / "m"))
        p = next(p for p in report.proposals if p.symptom == Symptom.IDLE_IN_TRANSACTION)
        assert (p.setting, p.scope, p.role, p.value) == ("idle_in_transaction_session_timeout", Scope.ROLE,
                                                         "clerk", "2s")
        assert p.evidence["longest_s"] >= 3
        api.apply(conn, tmp_path / "m")
        check = next(c for c in api.config_verify(conn, tmp_path / "m",
                                                  evidence=idle_in_transaction(conn)).checks
                     if c.symptom == Symptom.IDLE_IN_TRANSACTION)
        assert check.outcome == Outcome.GONE and check.now["longest_s"] <= 3, check
        api.rollback(conn, tmp_path / "m")
        assert changed_since(conn, cluster, start) == []
