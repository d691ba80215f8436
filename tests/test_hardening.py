"""Issue 9, point by point: each reproduction from the report, then the fixed behaviour, on a real server."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pglast
import pglast.enums
import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgtune import plan
from pgtune.apply import ADVISORY_KEY, Applier
from pgtune.capture import read_queries_file
from pgtune.cli import cli
from pgtune.errors import ApplyFailed, InputError

from .helpers import ORDERS_BY_USER, emitted, primary_and_standby, run, shop, suggest
from .test_apply_safety import big_migration, invalid_indexes

HOSTILE_COLUMN = "flag\nDROP TABLE victim; --"


def table_exists(conn: psycopg.Connection[Any], name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (sql.Identifier(name).as_string(conn),)).fetchone()
    return bool(row and row[0])


def emit_queries(conn: psycopg.Connection[Any], folder: Path, queries: str, **kw: Any) -> plan.Migration:
    m = emitted(conn, folder, queries, **kw).migration
    assert m is not None
    return m


# -- 1. identifiers in emitted comments -------------------------------------------


def test_newline_in_a_column_or_fk_name_cannot_inject_sql(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute("CREATE TABLE victim (id int)")
    conn.execute("CREATE TABLE parent (id int PRIMARY KEY)")
    conn.execute(sql.SQL("CREATE TABLE items (id int PRIMARY KEY, {col} int, {lb} int, pid int, "
                         "CONSTRAINT {fk} FOREIGN KEY (pid) REFERENCES parent (id) ON DELETE CASCADE)").format(
        col=sql.Identifier(HOSTILE_COLUMN), lb=sql.Identifier("line\nbreak"),
        fk=sql.Identifier("fk\nDROP TABLE victim; --")))
    conn.execute("INSERT INTO parent SELECT g FROM generate_series(1, 2000) g")
    conn.execute("INSERT INTO items SELECT g, g % 5000, g % 3000, 1 + g % 2000 FROM generate_series(1, 50000) g")
    conn.execute("ANALYZE")
    col = sql.Identifier(HOSTILE_COLUMN).as_string(conn)
    lb = sql.Identifier("line\nbreak").as_string(conn)
    m = emit_queries(conn, tmp_path / "mig", f"SELECT id FROM items WHERE {col} = 42;\n"
                                             f"SELECT id FROM items WHERE {lb} = 7;\n"
                                             "DELETE FROM parent WHERE id = 3;")
    texts = [(tmp_path / "mig" / f).read_text() for p in m.phases for f in (p.up_file, p.down_file)]
    assert texts and any("fk\\nDROP TABLE victim; --" in t for t in texts)   # shown, escaped, in a comment
    for text in texts:
        # What the server would run: only index DDL, settings and ANALYZE, never a DROP TABLE.
        kinds = {type(raw.stmt).__name__ for raw in pglast.parse_sql(text)}
        assert kinds <= {"IndexStmt", "VariableSetStmt", "VacuumStmt", "DropStmt"}, kinds
        drops = [raw.stmt for raw in pglast.parse_sql(text) if isinstance(raw.stmt, pglast.ast.DropStmt)]
        assert all(d.removeType == pglast.enums.ObjectType.OBJECT_INDEX for d in drops)
    report = Applier(conn, tmp_path / "mig").apply()            # the "line\nbreak" column no longer crashes it
    assert report.phases_run
    assert table_exists(conn, "victim")
    Applier(conn, tmp_path / "mig").rollback()
    assert table_exists(conn, "victim")


def test_a_script_that_does_not_parse_is_refused_whole(db: str, conn: psycopg.Connection[Any],
                                                       tmp_path: Path) -> None:
    shop(conn)
    run(conn, ORDERS_BY_USER, [(i,) for i in range(1, 11)])
    advice = suggest(conn)
    m = plan.build(advice)
    plan.emit(m, tmp_path / "mig")
    up = tmp_path / "mig" / m.phases[0].up_file
    up.write_text(up.read_text() + "\nSELECT (;\n")
    manifest = tmp_path / "mig" / "manifest.json"
    manifest.write_text(manifest.read_text().replace(m.checksums[up.name], plan.sha256(up.read_text())))
    result = CliRunner().invoke(cli, ["apply", str(tmp_path / "mig"), "--dsn", db])
    assert result.exit_code == 2, result.output
    assert "is not valid SQL" in result.stderr and "Traceback" not in result.output
    assert conn.execute("SELECT count(*) FROM pg_indexes WHERE indexname = %s",
                        (m.phases[0].indexes[0].name,)).fetchone() == (0,)


# -- 2. standard_conforming_strings = off --------------------------------------------


def write_value_set(folder: Path, schema: str, table: str, column: str, values: tuple[str, ...]) -> None:
    """A migration with one value-set CHECK, made the way pgtune makes its proposals' statements."""
    from pgtune.analyze import Advice
    from pgtune.constraints import constraint_name, statements
    from pgtune.constraints.model import Candidate, ConstraintKind, Proposal, Rule

    rule = Rule("in", (column,), values)
    cand = Candidate(ConstraintKind.VALUE_SET, schema, table, (column,), rule.text(), "medium", {}, rule)
    name = constraint_name(cand)
    up, down = statements(cand, name)
    proposal = Proposal(cand.kind, schema, table, [column], name, cand.check, cand.confidence, {}, up, down)
    plan.emit(plan.build(Advice(method="hypopg"), constraints=[proposal]), folder)


def test_backslash_quote_with_scs_off_runs_nothing_it_did_not_mean(db: str, conn: psycopg.Connection[Any],
                                                                   tmp_path: Path) -> None:
    conn.execute("CREATE TABLE victim (id int)")
    conn.execute("CREATE TABLE jobs (id int PRIMARY KEY, note text, state text)")
    conn.execute("INSERT INTO jobs SELECT g, 'n' || g, (ARRAY['new', 'it''s', 'back\\slash'])[1 + g % 3] "
                 "FROM generate_series(1, 30000) g")
    conn.execute("ANALYZE jobs")
    conn.execute(sql.SQL("ALTER DATABASE {} SET standard_conforming_strings = off").format(
        sql.Identifier(conn.info.dbname)))
    attack = "SELECT * FROM jobs WHERE note = '\\''; ROLLBACK; DROP TABLE victim; --'"
    queries = tmp_path / "q.sql"
    queries.write_text(attack + ";\nSELECT id FROM jobs WHERE note = 'n42';\n")
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(queries),
                                      "--emit", str(tmp_path / "mig")])
    assert result.exit_code == 0, result.output
    assert table_exists(conn, "victim")
    result = CliRunner().invoke(cli, ["verify", "--dsn", db, "--query", attack, "--analyze"])
    assert "Traceback" not in result.output
    assert table_exists(conn, "victim")
    # A value set with a quote and a backslash (pgtune proposes sets of codes only, so one written by hand) is
    # emitted and applied intact under scs off.
    write_value_set(tmp_path / "checks", "public", "jobs", "state", ("new", "it's", "back\\slash"))
    scripts = "".join(p.read_text() for p in sorted((tmp_path / "checks").glob("*_up.sql")))
    assert "SET standard_conforming_strings = on;" in scripts
    assert "'back\\slash'" in scripts and "'it''s'" in scripts
    apply = CliRunner().invoke(cli, ["apply", str(tmp_path / "checks"), "--dsn", db])
    assert apply.exit_code == 0, apply.output
    with psycopg.connect(db, autocommit=True) as c:      # a session that still has scs off
        assert c.execute("SHOW standard_conforming_strings").fetchone() == ("off",)
        c.execute("INSERT INTO jobs VALUES (-1, 'x', %s)", ("back\\slash",))
        with pytest.raises(psycopg.errors.CheckViolation):
            c.execute("INSERT INTO jobs VALUES (-2, 'x', %s)", ("back",))
    assert table_exists(conn, "victim")


# -- 3. verify --analyze and user code ------------------------------------------------


def test_analyze_never_runs_user_functions_views_or_operators(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE EXTENSION dblink")
    conn.execute("CREATE TABLE log (n int)")
    conn.execute("CREATE TABLE t (id int PRIMARY KEY, v int)")
    conn.execute("INSERT INTO t SELECT g, g FROM generate_series(1, 100) g")
    params = conninfo_to_dict(db)
    loop = make_conninfo("", **{k: params[k] for k in ("host", "port", "user", "dbname")})
    conn.execute(sql.SQL(
        "CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql STABLE AS $f$ "
        "SELECT n FROM dblink({dsn}, 'INSERT INTO log VALUES (1) RETURNING n') AS r(n int) $f$").format(
        dsn=sql.Literal(loop)))
    conn.execute("CREATE FUNCTION eq_sneaky(int, int) RETURNS bool LANGUAGE sql STABLE "
                 "AS $f$ SELECT $1 = $2 AND sneaky() = 1 $f$")
    conn.execute("CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = eq_sneaky)")
    conn.execute("CREATE VIEW v AS SELECT id, sneaky() AS s FROM t")
    conn.execute("CREATE VIEW vv AS SELECT * FROM v")
    assert conn.execute("SELECT sneaky()").fetchone() == (1,)      # it really writes
    conn.execute("TRUNCATE log")
    for query, why in [("SELECT sneaky()", "user-defined function: public.sneaky"),
                       ("SELECT * FROM vv WHERE id = 1", "through view"),
                       ("SELECT * FROM t WHERE id === 1", "operator"),
                       ("SELECT dblink_connect('x')", "dblink_connect")]:
        result = CliRunner().invoke(cli, ["verify", "--dsn", db, "--query", query, "--analyze",
                                          "--format", "json"])
        assert "Traceback" not in result.output, result.output
        assert why in result.stdout, (query, result.stdout)
        assert conn.execute("SELECT count(*) FROM log").fetchone() == (0,), query
    # A plain statement is still measured; --trust-functions is the DBA's explicit opt-in.
    plain = CliRunner().invoke(cli, ["verify", "--dsn", db, "--query", "SELECT * FROM t WHERE id = 1",
                                     "--analyze", "--format", "json"])
    assert '"ms": null' not in plain.stdout, plain.stdout
    conn.execute("CREATE FUNCTION harmless(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 + 1'")
    trusted = CliRunner().invoke(cli, ["verify", "--dsn", db, "--query", "SELECT harmless(id) FROM t",
                                       "--analyze", "--trust-functions", "--format", "json"])
    assert '"ms": null' not in trusted.stdout, trusted.stdout
    untrusted = CliRunner().invoke(cli, ["verify", "--dsn", db, "--query", "SELECT harmless(id) FROM t",
                                         "--analyze", "--format", "json"])
    assert "user-defined function: public.harmless" in untrusted.stdout


# -- 4. a positional DSN in a usage error ---------------------------------------------


def test_usage_errors_never_echo_a_password() -> None:
    result = CliRunner().invoke(cli, ["check", "postgresql://u:s3cretpw@db.internal/app"])
    assert result.exit_code == 2
    assert "s3cretpw" not in result.output and "***" in result.output
    result = CliRunner().invoke(cli, ["apply", "dir", "--wait", "host=x password=hunter22"])
    assert result.exit_code == 2 and "hunter22" not in result.output


# -- 5. a name collision: apply records only what exists, rollback drops only its own --------


def _shop_migration(conn: psycopg.Connection[Any], folder: Path) -> plan.Migration:
    shop(conn)
    run(conn, ORDERS_BY_USER, [(i,) for i in range(1, 11)])
    m = plan.build(suggest(conn))
    plan.emit(m, folder)
    return m


def test_same_name_other_definition_is_refused_and_never_dropped(db: str, conn: psycopg.Connection[Any],
                                                                 tmp_path: Path) -> None:
    m = _shop_migration(conn, tmp_path / "mig")
    ix = m.phases[0].indexes[0]
    user_index = sql.SQL("CREATE INDEX {} ON {} (total)").format(sql.Identifier(ix.name),
                                                                 sql.Identifier(ix.schema, ix.table))
    conn.execute(user_index)
    result = CliRunner().invoke(cli, ["apply", str(tmp_path / "mig"), "--dsn", db])
    assert result.exit_code == 1, result.output
    assert "already exists with another definition" in result.stderr
    status = CliRunner().invoke(cli, ["status", str(tmp_path / "mig"), "--dsn", db])
    assert status.exit_code == 1                          # not green
    CliRunner().invoke(cli, ["rollback", str(tmp_path / "mig"), "--dsn", db])
    definition = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", (ix.name,)).fetchone()
    assert definition is not None and "(total)" in definition[0]     # the user's index survived


def test_identical_preexisting_index_is_not_pgtunes_to_roll_back(conn: psycopg.Connection[Any],
                                                                 tmp_path: Path) -> None:
    m = _shop_migration(conn, tmp_path / "mig")
    ix = m.phases[0].indexes[0]
    # Where a migration tool manages the database its migration may have made the same index: not adopted
    # (without a ledger the same index under emit's free name is 01_up.sql run by hand: tests/test_apply_by_hand).
    conn.execute("CREATE TABLE schema_migrations (version bigint PRIMARY KEY)")
    conn.execute(ix.ddl.replace("CONCURRENTLY IF NOT EXISTS ", ""))
    report = Applier(conn, tmp_path / "mig").apply()
    step = next(s for s in report.steps if s.statement.startswith("CREATE INDEX") and ix.name in s.statement)
    assert step.status == "skipped" and "not pgtune's" in step.note
    others = [i.name for p in m.phases for i in p.indexes if i.name != ix.name]
    Applier(conn, tmp_path / "mig").rollback()
    names = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes").fetchall()}
    assert ix.name in names and not set(others) & names


def test_rollback_leaves_an_index_recreated_by_someone_else(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = _shop_migration(conn, tmp_path / "mig")
    ix = m.phases[0].indexes[0]
    Applier(conn, tmp_path / "mig").apply()
    conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(ix.schema, ix.name)))
    conn.execute(ix.ddl.replace("CONCURRENTLY IF NOT EXISTS ", ""))     # same name, not ours any more
    report = Applier(conn, tmp_path / "mig").rollback()
    assert any("was not created by this migration" in s.note for s in report.steps)
    assert conn.execute("SELECT count(*) FROM pg_indexes WHERE indexname = %s", (ix.name,)).fetchone() == (1,)


def test_emit_picks_a_free_name_when_a_relation_holds_it(conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    run(conn, ORDERS_BY_USER, [(i,) for i in range(1, 11)])
    first = suggest(conn).indexes[0]
    conn.execute(sql.SQL("CREATE SEQUENCE {}").format(sql.Identifier(first.schema, first.name)))
    again = next(ix for ix in suggest(conn).indexes if ix.columns == first.columns)
    assert again.name != first.name and again.name.endswith("_idx2")


# -- 6. a lock timeout during cleanup -------------------------------------------------


def _snapshot_blocker(db: str) -> psycopg.Connection[Any]:
    """A reader whose snapshot a concurrent build must wait for, and whose table lock a DROP waits for."""
    blocker = psycopg.connect(db)
    blocker.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    blocker.execute("SELECT count(*) FROM events").fetchone()
    return blocker


def _blocker_once_a_build_runs(db: str, held: list[psycopg.Connection[Any]]) -> threading.Thread:
    """The reader starts once a build is under way: too late for apply to wait for it before the build."""

    def start() -> None:
        deadline = time.monotonic() + PATIENCE      # pgtune started as a process: slow to get there under load
        with psycopg.connect(db, autocommit=True) as watch:
            while time.monotonic() < deadline:
                # events' own: the history's tables, made as apply starts, show there too
                row = watch.execute("SELECT count(*) FROM pg_stat_progress_create_index "
                                    "WHERE relid = 'events'::regclass").fetchone()
                if row and row[0]:
                    break
                time.sleep(0.01)
        held.append(_snapshot_blocker(db))

    thread = threading.Thread(target=start)
    thread.start()
    return thread


@contextlib.contextmanager
def apply_waiting_mid_build(db: str, conn: psycopg.Connection[Any], folder: Path) -> Iterator[subprocess.Popen[str]]:
    """``pgtune apply`` of ``folder`` while its build waits for a reader's snapshot
    taken once the build ran; on leaving, the reader goes and that apply must then end well."""
    held: list[psycopg.Connection[Any]] = []
    thread = _blocker_once_a_build_runs(db, held)
    proc = _pgtune("apply", str(folder), "--dsn", db)
    try:
        _wait_for_build(conn, proc)
        thread.join()
        yield proc
    finally:
        thread.join()
        for blocker in held:
            blocker.rollback()
            blocker.close()
        code = proc.wait(timeout=PATIENCE)
    assert code == 0, proc.communicate()


def test_cleanup_lock_timeout_is_retried_and_said_plainly(db: str, conn: psycopg.Connection[Any],
                                                          tmp_path: Path) -> None:
    big_migration(conn, tmp_path / "mig", lock_timeout="200ms")
    held: list[psycopg.Connection[Any]] = []
    thread = _blocker_once_a_build_runs(db, held)
    try:
        # The build waits for the reader's snapshot past --wait-for-transactions (1 s): it is cancelled, and
        # the drop of its INVALID index waits for the reader's table lock past lock_timeout, three times.
        with pytest.raises(ApplyFailed) as failed:
            Applier(conn, tmp_path / "mig", retries=2, backoff=0.05, wait_for_transactions=1).apply()
        thread.join()
        assert held, "the reader never started"
        said = str(failed.value)
        assert "was cancelled: it waited 1s in all for other transactions to end, the last pid " \
               f"{held[0].info.backend_pid} (idle in transaction" in said, said       # whom it waited for
        assert "; then could not drop the INVALID index" in said, said
        assert not conn.broken
        # status and the next apply name what is left (p14 F3: they said "failed" alone)
        phase = Applier(conn, tmp_path / "mig").status().phases[0]
        assert phase.state == "failed" and len(phase.invalid) == 1, phase
        assert "(INVALID, left by a failed build: the next apply drops and rebuilds it)" in phase.invalid[0]
        cli_run = CliRunner().invoke(cli, ["apply", str(tmp_path / "mig"), "--dsn", db, "--retries", "1",
                                           "--wait-for-transactions", "1"])
        assert cli_run.exit_code == 1 and "connection to the server lost" not in cli_run.output
        assert "was not started" in cli_run.stderr and f"left by the last run: {phase.invalid[0]}" in cli_run.stderr
    finally:
        thread.join()
        for blocker in held:
            blocker.rollback()
            blocker.close()
    Applier(conn, tmp_path / "mig").apply()      # once the reader is gone, a re-run cleans up and builds
    assert invalid_indexes(conn) == 0


# -- 7. interrupted applies -----------------------------------------------------------


def _pgtune(*args: str, **kw: Any) -> subprocess.Popen[str]:
    # A shell that started the test run in the background hands SIGINT down ignored: restore it,
    # so that the child behaves like pgtune started from a terminal.
    return subprocess.Popen([sys.executable, "-m", "pgtune", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **kw)


# Waits are bounded by what pgtune does, not by a fixed wall time alone: at load 14 starting pgtune and reaching the
# build took most of 30 s (session 23). A pgtune that never gets there fails all the same, as soon as it exits.
PATIENCE = 180.0


def _wait_for_build(conn: psycopg.Connection[Any], proc: subprocess.Popen[str] | None = None,
                    timeout: float = PATIENCE) -> int:
    """The pid of pgtune's backend once its CREATE INDEX is waiting (for the blocker's snapshot)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = 'pgtune' "
                           "AND query LIKE '%%CREATE INDEX%%' AND wait_event_type = 'Lock'").fetchone()
        if row:
            return int(row[0])
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"pgtune ended ({proc.returncode}) before its build waited: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError("the build never started waiting")


def _build_cancelled(conn: psycopg.Connection[Any], pid: int, proc: subprocess.Popen[str]) -> None:
    """Until ``pid`` no longer runs the CREATE INDEX (pgtune's cancel reached it), however long Ctrl-C takes to be
    handled under load; the test then lets the reader go while pgtune cleans up, as it means to."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline and proc.poll() is None:
        row = conn.execute("SELECT query LIKE '%%CREATE INDEX%%' AND state = 'active' FROM pg_stat_activity "
                           "WHERE pid = %s", (pid,)).fetchone()
        if not row or not row[0]:
            return
        time.sleep(0.05)


def test_ctrl_c_cancels_the_build_drops_the_leftover_and_records_it(db: str, conn: psycopg.Connection[Any],
                                                                    tmp_path: Path) -> None:
    big_migration(conn, tmp_path / "mig", lock_timeout="60s")
    held: list[psycopg.Connection[Any]] = []
    thread = _blocker_once_a_build_runs(db, held)       # mid-build: apply waits up front for one there before
    try:
        proc = _pgtune("apply", str(tmp_path / "mig"), "--dsn", db)
        pid = _wait_for_build(conn, proc)
        thread.join()
        proc.send_signal(signal.SIGINT)
        _build_cancelled(conn, pid, proc)
        held[0].rollback()          # the reader goes away while pgtune cleans up
        out, err = proc.communicate(timeout=PATIENCE)
    finally:
        thread.join()
        for blocker in held:
            blocker.close()
    assert proc.returncode == 130, err          # 128 + SIGINT, as a shell reports it: not "a check failed"
    assert "interrupted during phase 1" in err and "half-built index is dropped" in err, err
    assert "Traceback" not in err
    assert invalid_indexes(conn) == 0
    statuses = {r[0] for r in conn.execute("SELECT status FROM pgtune.history").fetchall()}
    assert "interrupted" in statuses and "running" not in statuses
    again = _pgtune("apply", str(tmp_path / "mig"), "--dsn", db)
    assert again.wait(timeout=PATIENCE) == 0


def test_a_killed_client_is_noticed_and_the_next_apply_waits_for_it(db: str, conn: psycopg.Connection[Any],
                                                                   tmp_path: Path) -> None:
    big_migration(conn, tmp_path / "mig", lock_timeout="60s")
    held: list[psycopg.Connection[Any]] = []
    thread = _blocker_once_a_build_runs(db, held)       # mid-build: apply waits up front for one there before
    try:
        proc = _pgtune("apply", str(tmp_path / "mig"), "--dsn", db)
        pid = _wait_for_build(conn, proc)
        thread.join()
        proc.kill()
        proc.wait()
        killed = time.monotonic()
        # client_connection_check_interval: the server ends the orphaned build within seconds.
        while conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() != (0,):
            assert time.monotonic() - killed < 15, "the orphaned backend kept running"
            time.sleep(0.1)
    finally:
        thread.join()
        for blocker in held:
            blocker.rollback()
            blocker.close()
    again = _pgtune("apply", str(tmp_path / "mig"), "--dsn", db, "--wait", "30")
    assert again.wait(timeout=90) == 0
    assert invalid_indexes(conn) == 0


def test_wait_names_the_holder_and_gives_up_with_one_line(db: str, conn: psycopg.Connection[Any],
                                                         tmp_path: Path) -> None:
    _shop_migration(conn, tmp_path / "mig")
    with psycopg.connect(db, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_KEY,))
        started = time.monotonic()
        result = CliRunner().invoke(cli, ["apply", str(tmp_path / "mig"), "--dsn", db, "--wait", "1"])
        assert time.monotonic() - started >= 1.0
        assert result.exit_code == 1
        assert f"backend pid {holder.info.backend_pid}" in result.stderr and "after waiting 1s" in result.stderr


# -- 8. tracebacks become one line ----------------------------------------------------


def test_bad_queries_files_and_paths_get_one_line(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    shop(conn)
    latin = tmp_path / "latin1.sql"
    latin.write_bytes("SELECT * FROM users WHERE email = 'jos\xe9@x';".encode("latin-1"))
    binary = tmp_path / "bin.sql"
    binary.write_bytes(b"\x00\x01\x02SELECT")
    for path, words in [(latin, "not UTF-8 text (byte 0xe9"), (binary, "binary file")]:
        result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(path)])
        assert result.exit_code == 2, result.output
        assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
    mixed = tmp_path / "mixed.sql"
    mixed.write_text('SELECT id FROM "order" WHERE "userId" = 42 ORDER BY "createdAt" DESC LIMIT 20;\n'
                     "SELECT * FROM users WHERE (id = 1;\n"
                     "SELECT * FROM users WHERE email = 'unterminated\n")
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(mixed), "--format", "json",
                                      "--no-constraints"])
    assert result.exit_code == 0, result.output
    assert '"userId"' in result.stdout and result.stdout.count('"reason"') >= 2
    afile = tmp_path / "a-file"
    afile.write_text("x")
    for target in (str(afile), "/proc/pgtune-cannot/mig"):
        result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(mixed), "--emit", target])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1
    result = CliRunner().invoke(cli, ["verify", "--dsn", db, "--query", "SELECT 1", "--junit", "/proc/x.xml"])
    assert result.exit_code == 2 and "cannot write the JUnit report" in result.stderr


# -- 9. wrong claims ------------------------------------------------------------------


def test_statement_timeout_is_called_what_it_is(db: str, conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db], env={"PGOPTIONS": "-c statement_timeout=1"})
    assert result.exit_code == 2, result.output
    assert "statement_timeout" in result.stderr and "connection to the server lost" not in result.stderr


def test_hidden_statements_name_the_missing_grant(db: str, conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    run(conn, ORDERS_BY_USER, [(i,) for i in range(1, 11)])
    conn.execute("DROP ROLE IF EXISTS pgtune_blind")
    conn.execute("CREATE ROLE pgtune_blind LOGIN")
    try:
        result = CliRunner().invoke(cli, ["suggest", "--dsn", make_conninfo(db, user="pgtune_blind"),
                                          "--no-constraints"])
        assert result.exit_code == 2, result.output
        assert "GRANT pg_read_all_stats TO pgtune_blind" in result.stderr
        assert "already served" not in result.output
    finally:
        conn.execute(sql.SQL("DROP OWNED BY pgtune_blind"))
        conn.execute("DROP ROLE pgtune_blind")


def test_verify_without_targets_fails(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    _shop_migration(conn, tmp_path / "mig")
    (tmp_path / "mig" / "targets.json").unlink()
    result = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db])
    assert result.exit_code == 2 and "has no targets.json" in result.stderr


def test_apply_in_a_read_only_session_on_the_primary_says_which(db: str, conn: psycopg.Connection[Any],
                                                                tmp_path: Path) -> None:
    """u5: a read-only role on the primary was told "run this on the primary"; nothing of the phase runs."""
    _shop_migration(conn, tmp_path / "mig")
    indexes = "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'"
    before = conn.execute(indexes).fetchone()
    reader = make_conninfo(db, options="-c default_transaction_read_only=on")
    result = CliRunner().invoke(cli, ["apply", str(tmp_path / "mig"), "--dsn", reader])
    assert result.exit_code == 2, result.output
    assert "this session is read-only" in result.stderr and "on the primary" not in result.stderr, result.stderr
    assert conn.execute(indexes).fetchone() == before


def test_apply_on_a_hot_standby_says_so(tmp_path: Path) -> None:
    with primary_and_standby() as (primary, standby_dsn):
        folder = tmp_path / "mig"
        with psycopg.connect(primary.dsn, autocommit=True) as c:
            c.execute("CREATE TABLE t (id int PRIMARY KEY, v int)")
            c.execute("INSERT INTO t SELECT g, g % 100 FROM generate_series(1, 5000) g")
            c.execute("ANALYZE t")
            m = plan.build(suggest(c, read_queries_file("SELECT * FROM t WHERE v = 3"), ))
            plan.emit(m, folder)
        time.sleep(1.0)
        result = CliRunner().invoke(cli, ["apply", str(folder), "--dsn", standby_dsn])
        assert result.exit_code == 2, result.output
        assert "hot standby" in result.stderr and "on the primary" in result.stderr


# -- 10. the wheel, installed for real ------------------------------------------------


def test_built_wheel_installs_and_runs_in_a_fresh_venv(db: str, tmp_path: Path) -> None:
    import site
    import sysconfig

    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"),
                          str(root)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    [wheel] = (tmp_path / "dist").glob("pgtune-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    out = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    # Dependencies come from the test environment (no network); pgtune itself only from the wheel.
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    deps = [p for p in {sysconfig.get_paths()["purelib"], *site.getsitepackages()} if Path(p).is_dir()]
    Path(purelib, "zz_test_deps.pth").write_text("\n".join(deps) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    where = subprocess.run([str(py), "-c", "import pgtune, pgtune.constraints.families; print(pgtune.__file__)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    assert where.stdout.strip().startswith(str(venv)), where.stdout
    helped = subprocess.run([str(venv / "bin" / "pgtune"), "--help"], capture_output=True, text=True, env=env,
                            cwd=tmp_path)
    assert helped.returncode == 0 and "suggest" in helped.stdout, helped.stderr
    checked = subprocess.run([str(venv / "bin" / "pgtune"), "check", "--dsn", db], capture_output=True, text=True,
                             env=env, cwd=tmp_path)
    assert checked.returncode in (0, 1) and "server" in checked.stdout, checked.stderr


def test_input_error_is_a_usage_error() -> None:
    assert InputError("x").exit_code == 2


def test_option_values_are_checked_before_any_work() -> None:
    nowhere = "host=/nonexistent port=1"
    for args, words in [(["suggest", "--top", "-5"], "--top"), (["suggest", "--max-index-mb", "-1"], "--max-index-mb"),
                        (["suggest", "--lock-timeout", "5s; DROP TABLE x"], "--lock-timeout"),
                        (["demo", "--scale", "100"], "--scale"), (["rollback", "dir", "--phase", "0"], "--phase"),
                        (["verify", "--expect-index", "x"], "--expect-index goes with --query")]:
        result = CliRunner().invoke(cli, [*args, "--dsn", nowhere] if args[0] != "demo" else args)
        assert result.exit_code == 2, (args, result.output)
        assert words in result.stderr and "cannot connect" not in result.stderr, result.stderr


def test_unknown_database_option_is_named(db: str, conn: psycopg.Connection[Any]) -> None:
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--database", "no_such_db", "--no-constraints"])
    assert result.exit_code == 2 and "no such database" in result.stderr


def test_library_calls_on_a_raw_scs_off_connection_stay_one_statement(db: str, conn: psycopg.Connection[Any]) -> None:
    """Not only the CLI's connections: explain and baseline force the setting and send the text alone."""
    from pgtune.baseline import param_types
    from pgtune.explain import explain

    conn.execute("CREATE TABLE victim (id int)")
    conn.execute("CREATE TABLE jobs (id int PRIMARY KEY, note text)")
    conn.execute(sql.SQL("ALTER DATABASE {} SET standard_conforming_strings = off").format(
        sql.Identifier(conn.info.dbname)))
    with psycopg.connect(db, autocommit=True) as raw:
        assert raw.execute("SHOW standard_conforming_strings").fetchone() == ("off",)
        attack = "SELECT * FROM jobs WHERE note = '\\''; ROLLBACK; DROP TABLE victim; --'"
        explain(raw, attack)
        explain(raw, attack.replace("note =", "id = $1 AND note ="))
        param_types(raw, attack.replace("note =", "id = $1 AND note ="))
        # Below pglast's one-statement check, a text the server would split is refused whole
        # by the extended protocol.
        from pgtune.explain import Round
        from pgtune.explain_script import Run, script

        split = Round(raw, "SELECT 1", [None])
        split.script = script("SELECT 1; DROP TABLE victim", "FORMAT JSON", 0, 10_000, "", [Run(None, None)], [], None)
        split.names = split.script.names
        with pytest.raises(psycopg.errors.SyntaxError, match="multiple commands"):
            split.run(raw)
    assert table_exists(conn, "victim")


def test_a_constraint_of_the_same_name_is_refused_and_never_rolled_back(conn: psycopg.Connection[Any],
                                                                        tmp_path: Path) -> None:
    from pgtune.analyze import Advice
    from pgtune.constraints import propose

    shop(conn)
    proposals = propose(conn).constraints
    assert proposals
    m = plan.build(Advice(method="hypopg"), constraints=proposals)
    plan.emit(m, tmp_path / "mig")
    first = proposals[0]
    conn.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} CHECK (id > -1)").format(
        sql.Identifier(first.schema, first.table), sql.Identifier(first.name)))
    with pytest.raises(ApplyFailed, match="was not created by this migration"):
        Applier(conn, tmp_path / "mig").apply()
    Applier(conn, tmp_path / "mig").rollback()
    row = conn.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s",
                       (first.name,)).fetchone()
    assert row is not None and "-1" in row[0]          # the DBA's own constraint survived


def test_a_short_password_is_masked_where_it_stands_alone_only() -> None:
    """r11: with the password "r", every r of a message became *** ("pe***mission denied"): the message
    garbled, and the password told by where the stars fell."""
    from pgtune.connect import redact
    message = "permission denied for schema pgtune (dsn host=db user=reader password=r)"
    assert redact(message, "host=db user=reader password=r") == (
        "permission denied for schema pgtune (dsn host=db user=reader password=***)")
    assert redact("connect to postgresql://u:r@db/app failed", "postgresql://u:r@db/app") == (
        "connect to postgresql://u:***@db/app failed")
