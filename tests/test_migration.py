"""Phased migrations: emit, squawk, apply, rollback, status, on a real server."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune import plan
from pgtune.apply import Applier
from pgtune.cli import cli
from pgtune.cluster import find_bindir
from pgtune.errors import ChecksumMismatch, LockBusy

from .helpers import ORDERS_BY_USER, emitted, run, shop, suggest, with_item_count


def squawk_bin() -> str:
    found = shutil.which("squawk") or str(Path(sys.executable).parent / "squawk")
    assert Path(found).exists(), "squawk-cli is a test dependency"
    return found


def emit(conn: psycopg.Connection[Any], folder: Path, **kw: Any) -> plan.Migration:
    shop(conn)
    if kw.get("constraints"):
        with_item_count(conn)
    run(conn, ORDERS_BY_USER, [(i,) for i in range(1, 11)])
    run(conn, "SELECT id FROM users WHERE \"createdAt\" > now() - interval '2 days' ORDER BY \"createdAt\"")
    result = emitted(conn, folder, **kw)
    assert len(result.indexes.indexes) >= 2
    assert result.migration is not None
    return result.migration


def index_names(conn: psycopg.Connection[Any]) -> set[str]:
    rows = conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'").fetchall()
    return {r[0] for r in rows}


def planned(m: plan.Migration) -> set[str]:
    return {ix.name for p in m.phases for ix in p.indexes}


def test_emitted_folder_layout(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    files = sorted(p.name for p in (tmp_path / "mig").iterdir())
    expected = ["manifest.json", "targets.json"] + [f for p in m.phases for f in (p.up_file, p.down_file)]
    assert files == sorted(expected)
    manifest = json.loads((tmp_path / "mig" / "manifest.json").read_text())
    assert manifest["id"] == m.id and "targets.json" in manifest["checksums"]
    targets = json.loads((tmp_path / "mig" / "targets.json").read_text())
    assert targets and all(t["expected_indexes"] for t in targets)
    up = (tmp_path / "mig" / m.phases[0].up_file).read_text()
    assert "SET lock_timeout = '5s';" in up and "CREATE INDEX CONCURRENTLY IF NOT EXISTS" in up
    assert "ANALYZE public." in up
    down = (tmp_path / "mig" / m.phases[0].down_file).read_text()
    assert "DROP INDEX CONCURRENTLY IF EXISTS" in down


def test_emitted_sql_passes_squawk(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    emit(conn, tmp_path / "mig")
    files = sorted(str(p) for p in (tmp_path / "mig").glob("*.sql"))
    major = conn.info.server_version // 10000
    out = subprocess.run([squawk_bin(), f"--pg-version={major}", *files], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Found 0 issues" in out.stdout or "No issues found" in out.stdout or out.stdout.strip() == "", out.stdout


def test_squawk_does_flag_a_blocking_build(tmp_path: Path) -> None:
    # The squawk test above would be worthless if squawk accepted anything.
    bad = tmp_path / "bad.sql"
    bad.write_text("CREATE INDEX i ON t (c);\n")
    assert subprocess.run([squawk_bin(), str(bad)], capture_output=True).returncode != 0


def test_scripts_run_with_plain_psql(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    psql = str(find_bindir() / "psql")
    for p in m.phases:
        out = subprocess.run([psql, "-X", "-v", "ON_ERROR_STOP=1", "-d", db, "-f", str(tmp_path / "mig" / p.up_file)],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
    assert planned(m) <= index_names(conn)


def test_apply_is_idempotent_and_rollback_removes(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    before = index_names(conn)
    first = Applier(conn, tmp_path / "mig").apply()
    assert first.changed and first.phases_run == [p.number for p in m.phases]
    assert planned(m) <= index_names(conn)
    history = conn.execute("SELECT count(*) FROM pgtune.history").fetchone()
    second = Applier(conn, tmp_path / "mig").apply()
    assert not second.changed and second.phases_skipped == [p.number for p in m.phases]
    assert conn.execute("SELECT count(*) FROM pgtune.history").fetchone() == history
    Applier(conn, tmp_path / "mig").rollback()
    assert index_names(conn) == before
    states = conn.execute("SELECT DISTINCT status FROM pgtune.phases").fetchall()
    assert states == [("rolled_back",)]


def test_round_trip_schema_identical(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    pg_dump = str(find_bindir() / "pg_dump")

    def dump() -> str:
        out = subprocess.run([pg_dump, "--schema-only", "--exclude-schema=pgtune", "-d", db],
                             capture_output=True, text=True, check=True).stdout
        # Newer pg_dump wraps its output in \restrict <random key>: not schema.
        return "\n".join(l for l in out.splitlines() if not l.startswith(("\\restrict", "\\unrestrict")))

    original = dump()
    a = Applier(conn, tmp_path / "mig")
    a.apply()
    applied = dump()
    assert applied != original
    a.rollback()
    assert dump() == original
    a.apply()
    assert dump() == applied
    assert m.phases


def test_edited_file_is_refused(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    up = tmp_path / "mig" / m.phases[0].up_file
    up.write_text(up.read_text().replace("SET statement_timeout = 0;", "DROP TABLE users CASCADE;"))
    with pytest.raises(ChecksumMismatch):
        Applier(conn, tmp_path / "mig").apply()
    result = CliRunner().invoke(cli, ["apply", str(tmp_path / "mig"), "--dsn", db])
    assert result.exit_code == 1
    assert "01_up.sql changed since emit" in result.stderr
    assert conn.execute("SELECT to_regclass('users') IS NOT NULL").fetchone() == (True,)
    status = CliRunner().invoke(cli, ["status", str(tmp_path / "mig"), "--dsn", db])
    assert status.exit_code == 1 and "edited since emit: 01_up.sql" in status.stdout


def test_dry_run_changes_nothing(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    before = index_names(conn)
    result = CliRunner().invoke(cli, ["apply", str(tmp_path / "mig"), "--dsn", db, "--dry-run"])
    assert result.exit_code == 0, result.stderr
    assert "would-run" in result.stdout
    assert index_names(conn) == before
    assert conn.execute("SELECT to_regnamespace('pgtune')").fetchone() == (None,)
    assert m.phases


def test_phase_option_applies_only_that_phase(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig", first_phase_share=0.5)
    assert len(m.phases) == 2
    Applier(conn, tmp_path / "mig").apply([1])
    names = index_names(conn)
    assert {ix.name for ix in m.phases[0].indexes} <= names
    assert not ({ix.name for ix in m.phases[1].indexes} & names)


def test_second_applier_refuses_while_first_holds_the_lock(db: str, conn: psycopg.Connection[Any],
                                                           tmp_path: Path) -> None:
    emit(conn, tmp_path / "mig")
    with psycopg.connect(db, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (0x70677475,))
        with pytest.raises(LockBusy, match="another pgtune apply"):
            Applier(conn, tmp_path / "mig").apply()
        result = CliRunner().invoke(cli, ["apply", str(tmp_path / "mig"), "--dsn", db, "--wait", "0"])
        assert result.exit_code == 1 and "another pgtune apply" in result.stderr
        other.execute("SELECT pg_advisory_unlock(%s)", (0x70677475,))
    assert Applier(conn, tmp_path / "mig").apply().changed


def test_two_concurrent_appliers_never_both_run(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    outcomes: list[str] = []

    def worker() -> None:
        with psycopg.connect(db, autocommit=True) as c:
            try:
                r = Applier(c, tmp_path / "mig").apply()
                outcomes.append("ran" if r.changed else "nothing")
            except LockBusy:
                outcomes.append("refused")

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) in (["nothing", "ran"], ["ran", "refused"])
    done = conn.execute("SELECT count(*) FROM pgtune.history WHERE status = 'done' AND statement LIKE 'CREATE INDEX%'")
    assert done.fetchone() == (len(planned(m)),)


def test_invalid_index_left_by_a_crash_is_rebuilt(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    ix = m.phases[0].indexes[0]
    conn.execute(ix.ddl)
    # Mark it INVALID as an interrupted concurrent build leaves it.
    conn.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass",
                 (f'{ix.schema}."{ix.name}"',))
    status = Applier(conn, tmp_path / "mig").status()
    assert status.phases[0].state == "pending"
    Applier(conn, tmp_path / "mig").apply()
    row = conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = %s::regclass",
                       (f'{ix.schema}."{ix.name}"',)).fetchone()
    assert row == (True,)


def test_status_reports_drift(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    Applier(conn, tmp_path / "mig").apply()
    ok = CliRunner().invoke(cli, ["status", str(tmp_path / "mig"), "--dsn", db])
    assert ok.exit_code == 0 and "applied" in ok.stdout
    victim = m.phases[0].indexes[0]
    conn.execute(victim.rollback)
    drift = CliRunner().invoke(cli, ["status", str(tmp_path / "mig"), "--dsn", db, "--format", "json"])
    assert drift.exit_code == 1
    data = json.loads(drift.stdout)
    assert data["phases"][0]["missing"] == [victim.name]
    # A plain re-run repairs the drift.
    Applier(conn, tmp_path / "mig").apply()
    assert CliRunner().invoke(cli, ["status", str(tmp_path / "mig"), "--dsn", db]).exit_code == 0


def test_what_apply_ran_is_not_mistaken_for_workload(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    emit(conn, tmp_path / "mig")
    Applier(conn, tmp_path / "mig").apply()
    advice = suggest(conn)
    texts = [s.query for s in advice.skipped] + [s.query for s in advice.statements]
    assert not [t for t in texts if "CONCURRENTLY" in t or t.startswith("ANALYZE")], texts


def test_hostile_names_survive_the_whole_loop(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    from psycopg import sql

    from pgtune.verify import verify

    schema, table, column = 'we"ird schema', 'a"b', "x; DROP TABLE y"
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, {} int)").format(
        sql.Identifier(schema, table), sql.Identifier(column)))
    conn.execute(sql.SQL("INSERT INTO {} SELECT g, g % 5000 FROM generate_series(1, 50000) g").format(
        sql.Identifier(schema, table)))
    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, table)))
    conn.execute("SELECT pg_stat_statements_reset()")
    query = sql.SQL("SELECT id FROM {} WHERE {} = %s").format(sql.Identifier(schema, table), sql.Identifier(column))
    for i in range(5):
        conn.execute(query, (i,)).fetchall()
    [ix] = emitted(conn, tmp_path / "mig").indexes.indexes
    Applier(conn, tmp_path / "mig").apply()
    assert verify(conn, tmp_path / "mig").ok
    assert conn.execute("SELECT count(*) FROM pg_indexes WHERE indexname = %s", (ix.name,)).fetchone() == (1,)
    Applier(conn, tmp_path / "mig").rollback()
    assert conn.execute("SELECT count(*) FROM pg_indexes WHERE indexname = %s", (ix.name,)).fetchone() == (0,)
    files = sorted(str(p) for p in (tmp_path / "mig").glob("*.sql"))
    out = subprocess.run([squawk_bin(), *files], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout


def test_through_and_rollback_of_one_phase(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig", first_phase_share=0.5)
    assert len(m.phases) == 2
    first = {ix.name for ix in m.phases[0].indexes}
    second = {ix.name for ix in m.phases[1].indexes}
    through = CliRunner().invoke(cli, ["apply", str(tmp_path / "mig"), "--dsn", db, "--through", "1"])
    assert through.exit_code == 0, through.stderr
    assert first <= index_names(conn) and not (second & index_names(conn))
    CliRunner().invoke(cli, ["apply", str(tmp_path / "mig"), "--dsn", db])
    assert second <= index_names(conn)
    back = CliRunner().invoke(cli, ["rollback", str(tmp_path / "mig"), "--dsn", db, "--phase", "2"])
    assert back.exit_code == 0, back.stderr
    assert first <= index_names(conn) and not (second & index_names(conn))
    status = CliRunner().invoke(cli, ["status", str(tmp_path / "mig"), "--dsn", db, "--format", "json"])
    assert [p["state"] for p in json.loads(status.stdout)["phases"]] == ["applied", "rolled_back"]
