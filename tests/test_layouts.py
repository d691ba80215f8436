"""suggest --emit --layout: the files Prisma Migrate, Flyway and golang-migrate run, run the way each tool runs them.

Every file passes squawk with zero findings (a statement that must be alone in
its file says why, in a squawk-ignore with its reason).

None of the three tools' runners installs from PyPI, npm or Debian here, so
each file is executed by its tool's rule: golang-migrate sends a file as one
simple-protocol query (several statements: one implicit transaction), Flyway
runs a script statement by statement, outside a transaction when its
``.sql.conf`` says ``executeInTransaction=false``. Prisma is run as its schema
engine's apply_migrations runs a folder (``prisma_deploy``, read from
prisma-engines: the advisory lock, the ``_prisma_migrations`` row, the script
in one ``simple_query``, the row finished or its logs written).
"""

from __future__ import annotations

import datetime
import hashlib
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pglast
import psycopg
import pytest
from click.testing import CliRunner

from pgtune import api, plan
from pgtune.cli import cli

from .helpers import ORDERS_BY_USER, run, shop, with_item_count
from .test_migration import squawk_bin


def workload(conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    with_item_count(conn)
    run(conn, ORDERS_BY_USER, [(i,) for i in range(1, 11)])
    run(conn, 'SELECT id FROM "order" WHERE status = \'pending\' ORDER BY "createdAt" DESC LIMIT 5')
    # The app deletes users ("order"."userId" ON DELETE CASCADE): the key gets its index whatever the
    # reads earn against the writes the tests below add.
    conn.execute("DELETE FROM users WHERE id = -1")


def emit(conn: psycopg.Connection[Any], folder: Path, layout: plan.Layout) -> plan.Migration:
    result = api.suggest(conn, api.SuggestOptions(constraints=True),
                         emit=api.EmitOptions(directory=folder, layout=layout, first_phase_share=0.5,
                                              constraints=True))
    assert result.migration is not None
    steps = {p.step for p in result.migration.phases}
    assert {plan.PhaseStep.INDEXES, plan.PhaseStep.ADD_NOT_VALID, plan.PhaseStep.VALIDATE} <= steps, steps
    return result.migration


def as_one_query(conn: psycopg.Connection[Any], text: str) -> None:
    """What golang-migrate does: the whole file in one simple-protocol query."""
    psycopg.ClientCursor(conn).execute(text)


# Prisma's ledger, as its schema engine creates it (sql-schema-connector, postgres flavour).
PRISMA_LEDGER = """CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "_prisma_migrations_pkey" PRIMARY KEY ("id"))"""


class PrismaFailed(Exception):
    """A migration failed as `prisma migrate deploy` reports it: its name and the server's error."""


def prisma_deploy(conn: psycopg.Connection[Any], folder: Path) -> list[str]:
    """`prisma migrate deploy` on ``folder``, as prisma-engines' apply_migrations does it; the names it applied.

    It refuses while a migration is failed (finished_at and rolled_back_at NULL), then, for each
    folder not yet applied (or rolled back), in name order: a row with the script's SHA-256, the
    whole migration.sql in ONE simple-protocol query, then applied_steps_count and finished_at,
    or, on an error, the logs and a stop.
    """
    conn.execute("SELECT pg_advisory_lock(72707369)")
    try:
        conn.execute(PRISMA_LEDGER)
        rows = conn.execute("SELECT migration_name, finished_at IS NOT NULL, rolled_back_at IS NOT NULL "
                            "FROM _prisma_migrations").fetchall()
        failed = [name for name, finished, rolled_back in rows if not finished and not rolled_back]
        if failed:
            raise PrismaFailed(f"P3009: failed migrations in the target database: {failed}")
        done = {name for name, _, rolled_back in rows if not rolled_back}
        applied = []
        for path in sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in done):
            script = (path / "migration.sql").read_bytes().decode()
            key = str(uuid.uuid4())
            conn.execute("INSERT INTO _prisma_migrations (id, checksum, started_at, migration_name) "
                         "VALUES (%s, %s, now(), %s)", (key, hashlib.sha256(script.encode()).hexdigest(), path.name))
            result = conn.pgconn.exec_(script.encode())
            if result.status == psycopg.pq.ExecStatus.FATAL_ERROR:
                error = (result.error_message or b"").decode()
                # Prisma writes the logs on the same connection: it works only if the script left it idle.
                conn.execute("UPDATE _prisma_migrations SET logs = %s WHERE id = %s", (error, key))
                raise PrismaFailed(f"{path.name}: {error}")
            conn.execute("UPDATE _prisma_migrations SET applied_steps_count = applied_steps_count + 1 "
                         "WHERE id = %s", (key,))
            conn.execute("UPDATE _prisma_migrations SET finished_at = now() WHERE id = %s", (key,))
            applied.append(path.name)
        return applied
    finally:
        conn.execute("SELECT pg_advisory_unlock(72707369)")


def prisma_resolve_rolled_back(conn: psycopg.Connection[Any], name: str) -> None:
    """`prisma migrate resolve --rolled-back NAME`: the failed row is marked rolled back, so deploy runs it again."""
    conn.execute("UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = %s "
                 "AND finished_at IS NULL AND rolled_back_at IS NULL", (name,))


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


def test_prisma_one_folder_per_phase_and_per_concurrent_build_run_as_prisma_runs_them(
        conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    workload(conn)
    conn.execute('ALTER TABLE "order" ADD COLUMN quantity integer')   # a NOT NULL candidate: its helper check
    conn.execute('UPDATE "order" SET quantity = 1')
    conn.execute("ANALYZE")
    m = emit(conn, tmp_path / "prisma" / "migrations", plan.Layout.PRISMA)
    folders = sorted((tmp_path / "prisma" / "migrations").iterdir())
    assert all(f.name.split("_", 1)[1].startswith("pgtune_") for f in folders)
    assert [len(f.name.split("_", 1)[0]) for f in folders] == [14] * len(folders)   # Prisma's timestamp
    builds = sum(len(p.indexes) for p in m.phases)
    assert len(folders) == len(m.phases) + builds            # not one per statement
    texts = {f.name: (f / "migration.sql").read_text() for f in folders}
    for name, text in texts.items():
        if "CONCURRENTLY" in text.split("-- squawk-ignore require-lock-timeout")[-1]:
            assert len(pglast.split(text)) == 1, name           # a concurrent build alone in its query
        assert ";" not in "".join(line for line in text.splitlines() if line.startswith("--")), name
    assert sum("said once, here" in t for t in texts.values()) == 1
    assert prisma_deploy(conn, tmp_path / "prisma" / "migrations") == [f.name for f in folders]
    assert state(conn, m) == expected(m)
    assert prisma_deploy(conn, tmp_path / "prisma" / "migrations") == []     # nothing left to apply
    build = texts[folders[0].name]
    assert "CONCURRENTLY" in build and f"npx prisma migrate resolve --rolled-back {folders[0].name}" in build


def test_prisma_runner_fails_a_concurrent_build_beside_another_statement(conn: psycopg.Connection[Any],
                                                                         tmp_path: Path) -> None:
    """The check on the check: a file that put a SET beside its build would fail under prisma_deploy."""
    workload(conn)
    bad = tmp_path / "migrations" / "20260101000000_bad"
    bad.mkdir(parents=True)
    (bad / "migration.sql").write_text("SET lock_timeout = '5s';\n"
                                       'CREATE INDEX CONCURRENTLY "order_status_idx" ON "order" (status);\n')
    with pytest.raises(PrismaFailed, match="cannot run inside a transaction block"):
        prisma_deploy(conn, tmp_path / "migrations")
    with pytest.raises(PrismaFailed, match="P3009"):         # Prisma now refuses until it is resolved
        prisma_deploy(conn, tmp_path / "migrations")


def test_a_failed_prisma_migration_is_resolved_and_deployed_again(db: str, conn: psycopg.Connection[Any],
                                                                  tmp_path: Path) -> None:
    """A lock held by the application stops the NOT VALID migration midway; resolved, it runs again whole."""
    workload(conn)
    result = api.suggest(conn, api.SuggestOptions(constraints=True))
    checks = [c for c in result.constraints.constraints if c.table == "order"]
    assert len(checks) >= 2, checks
    m = plan.build(result.indexes, constraints=checks, lock_timeout="200ms")
    folder = tmp_path / "migrations"
    plan.write_layout(m, folder, plan.Layout.PRISMA)
    adds = next(f.name for f in sorted(folder.iterdir()) if f.name.endswith("add_checks_not_valid"))
    first = checks[0].name
    with psycopg.connect(db) as app:
        app.execute('SELECT 1 FROM "order" LIMIT 1')          # an open transaction: ACCESS SHARE on "order"
        with pytest.raises(PrismaFailed, match=f"{adds}: .*lock timeout"):
            prisma_deploy(conn, folder)
        logs = conn.execute("SELECT logs FROM _prisma_migrations WHERE migration_name = %s", (adds,)).fetchone()
        assert logs is not None and "lock timeout" in logs[0]      # the failure was recorded: the session was idle
    prisma_resolve_rolled_back(conn, adds)
    assert adds in prisma_deploy(conn, folder)
    assert state(conn, m) == expected(m)
    assert conn.execute("SELECT count(*) FROM pg_constraint WHERE conname = %s", (first,)).fetchone() == (0,) or \
        conn.execute("SELECT convalidated FROM pg_constraint WHERE conname = %s", (first,)).fetchone() == (True,)


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
    conn.execute('ALTER TABLE "order" ADD COLUMN quantity integer DEFAULT 1')   # NOT NULL candidate: its helper check
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
    # Only the two rules that cannot read SET LOCAL … COMMIT as a transaction are ignored file-wide.
    assert {line for line in text.splitlines() if "squawk-ignore-file" in line} == {
        "-- squawk-ignore-file transaction-nesting, prefer-robust-stmts"}
    assert "SET NOT NULL" in text and "DROP NOT NULL" in text and "CONCURRENTLY" in text   # every kind was linted


def test_a_taken_name_writes_nothing(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """A folder already at the stamp a file would take: nothing is overwritten.

    A taken folder is a migration stamped at or after the emit's time: the set now moves after it
    (u4's F4), so the same write goes through, entirely after it, and writes nothing into it.
    """
    workload(conn)
    result = api.suggest(conn, api.SuggestOptions(constraints=True))
    m = plan.build(result.indexes, constraints=result.constraints.constraints)
    now = datetime.datetime(2026, 11, 23, 10, 0, 0, tzinfo=datetime.UTC)
    first = plan.write_layout(m, tmp_path / "probe", plan.Layout.PRISMA, now=now)
    taken = tmp_path / "mig" / first[1].parent.name            # the second migration's folder exists
    taken.mkdir(parents=True)
    written = plan.write_layout(m, tmp_path / "mig", plan.Layout.PRISMA, now=now)
    assert written and all(p.parent.name > taken.name for p in written), written
    assert not any(taken.iterdir())



def test_on_a_database_prisma_migrates_pgtunes_names_are_not_prismas(conn: psycopg.Connection[Any],
                                                                     tmp_path: Path) -> None:
    """u2's F9 (umami's 03_metric_performance_index): the application's next release creates the same index.

    Under Prisma's default name, that migration failed on "already exists" and
    the deploy stopped; under pgtune's own it builds a duplicate health reports.
    """
    workload(conn)
    conn.execute(PRISMA_LEDGER)
    result = api.suggest(conn, emit=api.EmitOptions(directory=tmp_path / "m"))
    names = [i.name for i in result.indexes.indexes]
    assert names and all(n.endswith("_pgtune_idx") for n in names), names
    api.apply(conn, tmp_path / "m")
    for ix in result.indexes.indexes:      # the upstream migration, as Prisma writes it: its default name, no IF
        upstream = ix.ddl.replace(ix.name, ix.name.removesuffix("_pgtune_idx") + "_idx").replace(" IF NOT EXISTS", "")
        conn.execute(upstream)
    fk = api.health(conn, only=["foreign-key-without-index"])
    assert fk.findings == []


def test_prismas_folder_without_layout_prisma_is_refused(db: str, conn: psycopg.Connection[Any],
                                                         tmp_path: Path) -> None:
    """u2's R9: loose pgtune files in prisma/migrations are never run by Prisma; the DBA would think them deployed."""
    workload(conn)
    folder = tmp_path / "prisma" / "migrations"
    folder.mkdir(parents=True)
    (folder / "migration_lock.toml").write_text('provider = "postgresql"\n')
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--emit", str(folder)])
    assert out.exit_code == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "--layout prisma" in out.stderr and "migration_lock.toml" in out.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["migration_lock.toml"]        # nothing written
    ok = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--emit", str(folder), "--layout", "prisma"])
    assert ok.exit_code == 0, ok.stderr
    assert any(p.is_dir() for p in folder.iterdir())
