"""Prisma Migrate's and golang-migrate's files say how their GIN builds can be serial (c29's limit).

PostgreSQL 18 builds a GIN with parallel workers up to 1.63x larger than the
forecast (a serial build: c29). pgtune's own scripts and Flyway's SET
max_parallel_maintenance_workers = 0 around the build; Prisma Migrate and
golang-migrate send a file as one query, where CREATE INDEX CONCURRENTLY must
stand alone, so no SET fits. Their file now says so beside the build, and how to
build it serially (ALTER ROLE … SET for the deploy), escaped as every comment is;
the files still run as the tools run them, and pass squawk.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pglast
import psycopg
import pytest
from click.testing import CliRunner

from pgtune import ddl, plan
from pgtune.analyze.model import Advice, IndexSuggestion, Method
from pgtune.cli import cli
from pgtune.ddl import IndexKey
from pgtune.plan import timeouts

from .helpers import result_variables_gin, run, steady_state
from .test_layouts import PRISMA_LEDGER, as_one_query, prisma_deploy
from .test_migration import squawk_bin


def _gin_migration(conn: psycopg.Connection[Any]) -> plan.Migration:
    conn.execute('CREATE TABLE "Result" (id bigint PRIMARY KEY, variables jsonb NOT NULL, "typebotId" text)')
    btree = IndexSuggestion("public", "Result", "Result_typebotId_idx", ["typebotId"], [False],
                            ddl.create_index("public", "Result", "Result_typebotId_idx", (IndexKey("typebotId"),)),
                            ddl.drop_index("public", "Result_typebotId_idx"), ddl.analyze("public", "Result"),
                            "serves the typebot lookup")
    return plan.build(Advice(Method.HYPOPG, indexes=[result_variables_gin(), btree]))


def _said(text: str) -> bool:
    return "-- A GIN: PostgreSQL 18 builds it with parallel workers up to 1.6x larger than forecast" in text and (
        "ALTER ROLE <the migration role> SET max_parallel_maintenance_workers = 0 before the deploy" in text)


def test_prisma_and_golang_migrate_files_say_how_a_gin_builds_serially(conn: psycopg.Connection[Any],
                                                                       tmp_path: Path) -> None:
    m = _gin_migration(conn)
    now = datetime(2026, 12, 7, tzinfo=UTC)
    plan.write_layout(m, tmp_path / "prisma", plan.Layout.PRISMA, now=now)
    plan.write_layout(m, tmp_path / "golang", plan.Layout.GOLANG_MIGRATE, now=now)
    prisma = {f.parent.name: f.read_text() for f in (tmp_path / "prisma").glob("*/migration.sql")}
    gin = [t for t in prisma.values() if "USING gin" in t]
    assert len(gin) == 1 and _said(gin[0]), prisma                 # main: no word of it
    assert not any(_said(t) for t in prisma.values() if "USING gin" not in t)   # the b-tree's folder: none
    assert len(pglast.split(gin[0])) == 1                          # the build still stands alone
    ups = {f.name: f.read_text() for f in (tmp_path / "golang").glob("*.up.sql")}
    assert [n for n, t in ups.items() if _said(t)] == [n for n, t in ups.items() if "USING gin" in t] != []
    files = [str(p) for p in sorted(tmp_path.rglob("*.sql"))]
    lint = subprocess.run([squawk_bin(), f"--pg-version={conn.info.server_version // 10000}", *files],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    for name in sorted(ups):
        as_one_query(conn, ups[name])
    conn.execute("DROP INDEX \"Result_variables_idx\"")
    conn.execute("DROP INDEX \"Result_typebotId_idx\"")
    conn.execute(PRISMA_LEDGER)
    assert len(prisma_deploy(conn, tmp_path / "prisma")) == len(prisma)
    assert conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'Result'").fetchone() == (3,)


def test_the_parallel_gin_note_is_said_for_the_layouts_and_servers_it_concerns(conn: psycopg.Connection[Any]) -> None:
    m = _gin_migration(conn)
    line = timeouts.parallel_gin(m, str(plan.Layout.PRISMA), 180006)
    assert line is not None and "Result_variables_idx" in line and "Result_typebotId_idx" not in line, line
    assert "PostgreSQL 18 builds a GIN with parallel workers" in line and "ALTER ROLE <role> SET" in line
    assert timeouts.parallel_gin(m, str(plan.Layout.GOLANG_MIGRATE), 180000) is not None
    assert timeouts.parallel_gin(m, str(plan.Layout.FLYWAY), 180000) is None      # its file SETs it
    assert timeouts.parallel_gin(m, str(plan.Layout.PGTUNE), 180000) is None
    assert timeouts.parallel_gin(m, str(plan.Layout.PRISMA), 170004) is None      # 17 builds a GIN serially


def test_suggest_says_it_on_stderr_at_emit_on_18(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    if conn.info.server_version < 180000:
        pytest.skip("PostgreSQL 18 builds a GIN in parallel; earlier servers serially")
    conn.execute('CREATE TABLE "Result" (id bigint PRIMARY KEY, variables jsonb NOT NULL)')
    conn.execute('INSERT INTO "Result" SELECT i, jsonb_build_object(\'email\', \'user\' || i || \'@example.com\') '
                 'FROM generate_series(1, 60000) AS i')
    conn.execute('VACUUM ANALYZE "Result"')
    steady_state(conn)
    run(conn, 'SELECT id FROM "Result" WHERE variables @> %s',
        [(json.dumps({"email": f"user{i}@example.com"}),) for i in range(1, 21)], times=20)
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--emit", str(tmp_path / "prisma"), "--layout", "prisma",
                                   "--no-constraints"])
    assert out.exit_code == 0, out.output
    gin = [f for f in (tmp_path / "prisma").glob("*/migration.sql") if "USING gin" in f.read_text()]
    assert gin and _said(gin[0].read_text()), out.output
    assert "note: PostgreSQL 18 builds a GIN with parallel workers" in out.stderr, out.stderr   # main: no word
