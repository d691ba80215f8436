"""suggest --emit --layout: the files Prisma Migrate, Flyway and golang-migrate run, run the way each tool runs them.

Every file passes squawk with zero findings (a statement that must be alone in
its file says why, in a squawk-ignore with its reason).

None of the three tools installs from PyPI, npm or Debian here, so each file is
executed by its tool's documented rule: Prisma and golang-migrate send a file
as one simple-protocol query (several statements: one implicit transaction),
Flyway runs a script statement by statement, outside a transaction when its
``.sql.conf`` says ``executeInTransaction=false``.
"""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path
from typing import Any

import pglast
import psycopg
import pytest
from click.testing import CliRunner

from pgtune import api, plan
from pgtune.cli import cli
from pgtune.errors import MigrationError

from .helpers import ORDERS_BY_USER, run, shop
from .test_migration import squawk_bin


def workload(conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    run(conn, ORDERS_BY_USER, [(i,) for i in range(1, 11)])
    run(conn, 'SELECT id FROM "order" WHERE status = \'pending\' ORDER BY "createdAt" DESC LIMIT 5')


def emit(conn: psycopg.Connection[Any], folder: Path, layout: plan.Layout) -> plan.Migration:
    result = api.suggest(conn, api.SuggestOptions(constraints=True),
                         emit=api.EmitOptions(directory=folder, layout=layout, first_phase_share=0.5))
    assert result.migration is not None
    steps = {p.step for p in result.migration.phases}
    assert {plan.PhaseStep.INDEXES, plan.PhaseStep.ADD_NOT_VALID, plan.PhaseStep.VALIDATE} <= steps, steps
    return result.migration


def as_one_query(conn: psycopg.Connection[Any], text: str) -> None:
    """What Prisma and golang-migrate do: the whole file in one simple-protocol query."""
    psycopg.ClientCursor(conn).execute(text)


def state(conn: psycopg.Connection[Any], m: plan.Migration) -> tuple[set[str], set[tuple[str, bool]]]:
    """The migration's indexes that exist and are valid; its constraints and whether each is validated."""
    names = [ix.name for p in m.phases for ix in p.indexes]
    valid = {r[0] for r in conn.execute("SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
                                        "WHERE c.relname = ANY(%s) AND x.indisvalid", (names,))}
    cons = [c.name for p in m.phases for c in p.constraints]
    checks = {(r[0], r[1]) for r in conn.execute("SELECT conname, convalidated FROM pg_constraint "
                                                 "WHERE conname = ANY(%s)", (cons,))}
    return valid, checks


def expected(m: plan.Migration) -> tuple[set[str], set[tuple[str, bool]]]:
    helpers = {c.name for p in m.phases for c in p.constraints if c.set_not_null}   # dropped once NOT NULL is set
    return ({ix.name for p in m.phases for ix in p.indexes},
            {(c.name, True) for p in m.phases if p.step == plan.PhaseStep.VALIDATE
             for c in p.constraints if c.name not in helpers})


def test_prisma_files_hold_one_statement_each_and_run_as_prisma_runs_them(conn: psycopg.Connection[Any],
                                                                         tmp_path: Path) -> None:
    workload(conn)
    m = emit(conn, tmp_path / "prisma" / "migrations", plan.Layout.PRISMA)
    folders = sorted((tmp_path / "prisma" / "migrations").iterdir())
    assert all(f.name.split("_", 1)[1].startswith("pgtune_") for f in folders)
    assert [len(f.name.split("_", 1)[0]) for f in folders] == [14] * len(folders)   # Prisma's timestamp
    for folder in folders:
        text = (folder / "migration.sql").read_text()
        assert len(pglast.split(text)) == 1, folder.name
        as_one_query(conn, text)
    assert state(conn, m) == expected(m)
    build = (folders[0] / "migration.sql").read_text()
    assert "CONCURRENTLY" in build and f"npx prisma migrate resolve --rolled-back {folders[0].name}" in build


def test_golang_migrate_up_and_down(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    workload(conn)
    before = state(conn, plan.Migration("x", "", "", []))
    m = emit(conn, tmp_path / "db", plan.Layout.GOLANG_MIGRATE)
    ups = sorted((tmp_path / "db").glob("*.up.sql"))
    downs = sorted((tmp_path / "db").glob("*.down.sql"))
    assert [p.name.removesuffix(".up.sql") for p in ups] == [p.name.removesuffix(".down.sql") for p in downs]
    for path in ups:
        text = path.read_text()
        if "CONCURRENTLY" in text:
            assert len(pglast.split(text)) == 1, path.name
        as_one_query(conn, text)
    assert state(conn, m) == expected(m)
    for path in reversed(downs):               # migrate down: newest first
        as_one_query(conn, path.read_text())
    valid, checks = state(conn, m)
    assert valid == set() and checks == set() and before == (set(), set())


def test_flyway_scripts_run_statement_by_statement(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    workload(conn)
    m = emit(conn, tmp_path / "sql", plan.Layout.FLYWAY)
    scripts = sorted((tmp_path / "sql").glob("V*.sql"))
    assert len(scripts) == len(m.phases)
    for path in scripts:
        # Every script runs outside Flyway's transaction: its concurrent builds need that, and its
        # constraint changes bring their own BEGIN ... COMMIT.
        assert path.with_name(path.name + ".conf").read_text() == "executeInTransaction=false\n"
        for st in pglast.split(path.read_text()):       # autocommit, one by one, on one connection
            conn.execute(st)
    assert state(conn, m) == expected(m)
    # No down script is written beside them: each build says what undoes it.
    text = "".join(p.read_text() for p in scripts)
    assert "_down.sql" not in text and "-- To undo: DROP INDEX CONCURRENTLY IF EXISTS" in text
    # The session settings a non-transactional script set are reset at its end.
    assert conn.execute("SHOW lock_timeout").fetchone() == ("0",)


def test_cli_layout_needs_emit_and_never_overwrites(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    workload(conn)
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--layout", "prisma"])
    assert out.exit_code == 2 and "--layout needs --emit" in out.output
    folder = tmp_path / "migrations"
    ok = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--emit", str(folder), "--layout", "prisma"])
    assert ok.exit_code == 0, ok.output
    assert "as prisma migrations" in ok.stderr and "prisma migrate resolve" in ok.stderr
    assert any(folder.iterdir())


def test_every_layout_passes_squawk(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    workload(conn)
    conn.execute('ALTER TABLE "order" ADD COLUMN quantity integer')   # a NOT NULL candidate: its helper check
    conn.execute('UPDATE "order" SET quantity = 1')
    conn.execute("ANALYZE")
    files: list[str] = []
    for layout in (plan.Layout.PRISMA, plan.Layout.FLYWAY, plan.Layout.GOLANG_MIGRATE):
        emit(conn, tmp_path / str(layout), layout)
        files += sorted(str(f) for f in (tmp_path / str(layout)).rglob("*.sql"))
    lint = subprocess.run([squawk_bin(), f"--pg-version={conn.info.server_version // 10000}", *files],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    text = "".join(Path(f).read_text() for f in files)
    assert "squawk-ignore-file" not in text
    assert "SET NOT NULL" in text and "DROP NOT NULL" in text and "CONCURRENTLY" in text   # every kind was linted


def test_a_taken_name_writes_nothing(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """One file that would overwrite another migration, and none of the set is written."""
    workload(conn)
    result = api.suggest(conn, api.SuggestOptions(constraints=True))
    m = plan.build(result.indexes, constraints=result.constraints.constraints)
    now = datetime.datetime(2026, 11, 23, 10, 0, 0, tzinfo=datetime.UTC)
    first = plan.write_layout(m, tmp_path / "probe", plan.Layout.PRISMA, now=now)
    taken = tmp_path / "mig" / first[1].parent.name            # the second migration's folder exists
    taken.mkdir(parents=True)
    with pytest.raises(MigrationError, match="already exists"):
        plan.write_layout(m, tmp_path / "mig", plan.Layout.PRISMA, now=now)
    assert [p.name for p in (tmp_path / "mig").iterdir()] == [taken.name]
    assert not any(taken.iterdir())
