"""health --emit --layout: the fixes as files Prisma Migrate, Flyway and golang-migrate run, run as each runs them.

The same rules as tests/test_layouts.py: Prisma and golang-migrate send a file
as one query, Flyway runs a script statement by statement outside a
transaction. A drop is undone exactly: the index with its statistics targets,
comment and CLUSTER mark, though the build must be alone in its query.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pglast
import psycopg
from click.testing import CliRunner

from pgtune import api, plan
from pgtune.cli import cli

from .test_health import plant
from .test_health_emit import KIND_INDEXES, KINDS, indexes
from .test_hostile_names import _dump
from .test_layouts import PRISMA_LEDGER, as_one_query, prisma_deploy
from .test_migration import squawk_bin

FIXED = {"sequence-near-overflow"}     # the one planted finding no migration fixes


def planted(conn: psycopg.Connection[Any]) -> set[str]:
    """health's planted problems; the duplicate pair carries what a drop must give back besides the index."""
    plant(conn)
    conn.execute("DELETE FROM dupes WHERE ctid = (SELECT max(ctid) FROM dupes)")   # the DBA's part: the data
    for name in ("userOrders_userId_a", "userOrders_userId_b"):
        conn.execute(f'COMMENT ON INDEX "{name}" IS \'it\'\'s a copy\'')
    conn.execute('ALTER TABLE "userOrders" CLUSTER ON "userOrders_userId_b"')
    return indexes(conn)


def emit(conn: psycopg.Connection[Any], folder: Path, layout: plan.Layout, **kw: Any) -> None:
    report = api.health(conn, min_stats_age_s=0, emit=api.EmitOptions(directory=folder, layout=layout), **kw)
    assert report.migration is not None and report.migration.phases


def left(conn: psycopg.Connection[Any]) -> set[str]:
    return {f.check for f in api.health(conn, skip=["stale-statistics"], min_stats_age_s=0).findings}


def run_golang(conn: psycopg.Connection[Any], folder: Path, direction: str) -> None:
    files = sorted(folder.glob(f"*.{direction}.sql"), reverse=direction == "down")   # migrate down: newest first
    for path in files:
        text = path.read_text()
        stmts = pglast.split(text)
        if any("CONCURRENTLY" in st for st in stmts):           # not in a comment: a reason may name it
            assert len(stmts) == 1, path.name                   # a build is alone in its query
        as_one_query(conn, text)


def test_golang_migrate_fixes_every_finding_and_its_down_files_give_the_indexes_back(
        conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    before = planted(conn)
    emit(conn, tmp_path / "db", plan.Layout.GOLANG_MIGRATE)
    run_golang(conn, tmp_path / "db", "up")
    assert left(conn) == FIXED
    assert conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'dupes_a_key'::regclass"
                        ).fetchone() == (True,)
    run_golang(conn, tmp_path / "db", "down")
    assert indexes(conn) == before          # the drops are back, the foreign-key index is gone


def test_golang_migrate_down_restores_every_kind_of_index_exactly(db: str, conn: psycopg.Connection[Any],
                                                                  tmp_path: Path) -> None:
    conn.execute(KINDS)
    original = _dump(db)
    emit(conn, tmp_path / "db", plan.Layout.GOLANG_MIGRATE, only=["unused-index"])
    run_golang(conn, tmp_path / "db", "up")
    assert not indexes(conn) & KIND_INDEXES
    run_golang(conn, tmp_path / "db", "down")
    assert _dump(db) == original            # statistics target, comment and CLUSTER mark included


def test_prisma_fixes_every_finding_one_folder_per_phase_and_per_concurrent_statement(
        conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    planted(conn)
    report = api.health(conn, min_stats_age_s=0,
                        emit=api.EmitOptions(directory=tmp_path / "migrations", layout=plan.Layout.PRISMA))
    m = report.migration
    assert m is not None
    folders = sorted((tmp_path / "migrations").iterdir())
    assert len({f.name.split("_", 1)[1] for f in folders}) == len(folders)        # every name differs
    assert prisma_deploy(conn, tmp_path / "migrations") == [f.name for f in folders]
    assert left(conn) == FIXED
    # Prisma has no down migrations: each drop says how to build the index again, all of it; and if the drop
    # fails, it is run again (IF EXISTS finishes an interrupted drop), never the build's recovery.
    [copy] = [(f / "migration.sql").read_text() for f in folders if f.name.endswith("drop_userorders_userid_b")]
    recovery = next(line for line in copy.splitlines() if line.startswith("-- If it fails"))
    assert "run it again" in recovery and "CREATE" not in recovery
    assert "-- To undo (Prisma has no down migrations), build it again as it was:" in copy
    assert '--   CREATE INDEX CONCURRENTLY IF NOT EXISTS "userOrders_userId_b"' in copy
    assert "--   COMMENT ON INDEX public.\"userOrders_userId_" in copy and "it''s a copy" in copy


def test_flyway_fixes_every_finding_and_says_how_to_undo_a_drop(conn: psycopg.Connection[Any],
                                                                tmp_path: Path) -> None:
    planted(conn)
    emit(conn, tmp_path / "sql", plan.Layout.FLYWAY)
    scripts = sorted((tmp_path / "sql").glob("V*.sql"))
    for path in scripts:
        assert path.with_name(path.name + ".conf").read_text() == "executeInTransaction=false\n"
        for st in pglast.split(path.read_text()):
            conn.execute(st)
    assert left(conn) == FIXED
    drops = scripts[-1].read_text()
    assert "_down.sql" not in drops                     # no down file is written beside it
    assert '-- To undo: CREATE INDEX CONCURRENTLY IF NOT EXISTS "userOrders_userId_b"' in drops


def test_every_health_layout_passes_squawk(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    planted(conn)
    files: list[str] = []
    for layout in (plan.Layout.PRISMA, plan.Layout.FLYWAY, plan.Layout.GOLANG_MIGRATE):
        emit(conn, tmp_path / str(layout), layout, skip=["unused-index"])   # so the shrunk index is rebuilt
        files += sorted(str(f) for f in (tmp_path / str(layout)).rglob("*.sql"))
    lint = subprocess.run([squawk_bin(), f"--pg-version={conn.info.server_version // 10000}", *files],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    text = "".join(Path(f).read_text() for f in files)
    assert "REINDEX INDEX CONCURRENTLY" in text and "VALIDATE CONSTRAINT" in text and "CLUSTER ON" in text


def test_cli_health_layout_needs_emit(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    planted(conn)
    out = CliRunner().invoke(cli, ["health", "--dsn", db, "--layout", "golang-migrate"])
    assert out.exit_code == 2 and "--layout needs --emit" in out.output
    ok = CliRunner().invoke(cli, ["health", "--dsn", db, "--min-stats-age", "0", "--emit", str(tmp_path / "db"),
                                  "--layout", "golang-migrate"])
    assert ok.exit_code == 1, ok.output             # findings were found (and written)
    assert "as golang-migrate migrations" in ok.stderr and any((tmp_path / "db").glob("*.up.sql"))


def test_health_with_nothing_to_fix_writes_no_folder_in_any_layout(conn: psycopg.Connection[Any],
                                                                   tmp_path: Path) -> None:
    """Unlike suggest's, health's migration with no phase is not written (api._write_migration, write_empty)."""
    conn.execute("CREATE TABLE lonely (id bigint PRIMARY KEY)")
    for layout in plan.Layout:
        folder = tmp_path / str(layout)
        report = api.health(conn, only=["duplicate-index"], emit=api.EmitOptions(directory=folder, layout=layout))
        assert report.migration is not None and report.migration.phases == [], layout
        assert report.migration.directory == "" and not folder.exists(), layout


def test_an_index_prismas_migrations_made_is_dropped_only_through_them(conn: psycopg.Connection[Any],
                                                                       tmp_path: Path) -> None:
    """u2's F6 (umami's link_link_id_key): on a database Prisma Migrate manages, its indexes are its migrations'.

    pgtune's own folder leaves the drop out and says why, so the application's
    later migration that drops the index by name still runs; written for Prisma
    (--layout prisma), the drop is a Prisma migration and goes through.
    """
    planted(conn)
    conn.execute(PRISMA_LEDGER)                        # `prisma migrate deploy` made this schema
    conn.execute("INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) "
                 "VALUES ('1', 'c', now(), '20260101000000_init', 1)")     # an empty ledger made nothing (c30)
    # The name Prisma gives @@index([userId]): the copy its schema declares, so the other is the one to drop.
    conn.execute('ALTER INDEX "userOrders_userId_a" RENAME TO "userOrders_userId_idx"')
    report = api.health(conn, only=["duplicate-index"], emit=api.EmitOptions(directory=tmp_path / "own"))
    [dup] = report.findings
    assert dup.index == "userOrders_userId_b" and dup.evidence["owned_by"] == "Prisma Migrate"
    assert "the application's Prisma Migrate migrations' index, taken for theirs" in dup.message      # v37: no fact
    assert report.migration is not None and report.migration.phases == []
    assert any("userOrders_userId_b: the application's Prisma Migrate migrations' index" in x and
               "--layout prisma" in x for x in report.migration.left_out), report.migration.left_out
    conn.execute('DROP INDEX "userOrders_userId_b"')   # the application's next release: its own drop runs
    conn.execute('CREATE INDEX "userOrders_userId_b" ON "userOrders" ("userId")')
    emit(conn, tmp_path / "migrations", plan.Layout.PRISMA, only=["duplicate-index"])
    text = "".join(f.read_text() for f in (tmp_path / "migrations").glob("*/migration.sql"))
    assert "builds again every index schema.prisma still declares" in text      # u2's R8: a drop's own advice
    assert "add pgtune's lines" not in text
    assert prisma_deploy(conn, tmp_path / "migrations")
    assert "userOrders_userId_b" not in indexes(conn)
