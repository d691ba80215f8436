"""Formbricks/Hoppscotch-shaped (a37): the app's tables and Prisma's ledger in schema fb (``?schema=fb``).

Prisma's schema engine writes a table of the schema it migrates unqualified and
runs migration.sql under the search_path of the datasource's ``?schema=``: the
same folders then deploy to a database whose ``?schema=`` is another (CI,
staging). pgtune's Prisma folders wrote ``fb."order"``, which fails there.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from pgtune import api, plan
from pgtune.script import split, units

from .conftest import Server
from .helpers import shop, with_item_count
from .test_layouts import PRISMA_LEDGER, prisma_deploy, workload
from .test_migration import squawk_bin

_SCHEMA = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")%s
}

model User {
  id        BigInt   @id
  email     String   @unique
  createdAt DateTime
  @@map("users")%s
}

model Order {
  id        BigInt   @id
  userId    BigInt
  status    String
  total     Decimal
  createdAt DateTime
  itemCount Int
  @@map("order")%s
}
"""


def _emit(conn: psycopg.Connection[Any], folder: Path, *, ledger: bool = True,
          prisma: api.PrismaOptions | None = None) -> plan.Migration:
    conn.execute("CREATE SCHEMA fb")
    conn.execute("SET search_path = fb, public")    # the app's ?schema=fb (public: the extensions' functions)
    if ledger:
        conn.execute(PRISMA_LEDGER)
    workload(conn)
    result = api.suggest(conn, api.SuggestOptions(constraints=True), prisma=prisma, emit=api.EmitOptions(
        directory=folder, layout=plan.Layout.PRISMA, first_phase_share=0.5, constraints=True))
    assert result.migration is not None
    assert {plan.PhaseStep.INDEXES, plan.PhaseStep.ADD_NOT_VALID, plan.PhaseStep.VALIDATE} <= {
        p.step for p in result.migration.phases}
    return result.migration


def _statements(folder: Path, head: str) -> list[str]:
    return [line for f in sorted(folder.glob("*/migration.sql")) for line in f.read_text().splitlines()
            if line.startswith(head)]


def test_prisma_folders_deploy_to_a_database_whose_schema_is_another(
        conn: psycopg.Connection[Any], pg_server: Server, tmp_path: Path) -> None:
    folder = tmp_path / "prisma" / "migrations"
    m = _emit(conn, folder)
    texts = [p.read_text() for p in sorted(folder.glob("*/migration.sql"))]
    assert texts and not any("fb." in t for t in texts), texts[0]
    files = [str(p) for p in sorted(folder.glob("*/migration.sql"))]
    lint = subprocess.run([squawk_bin(), f"--pg-version={conn.info.server_version // 10000}", *files],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    name = f"pgtune_a37_{os.getpid()}"
    with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with psycopg.connect(pg_server.dsn_for(name), autocommit=True) as ci:
            ci.execute("CREATE SCHEMA ci")
            ci.execute("CREATE EXTENSION pg_stat_statements")     # the helpers' steady state resets it
            ci.execute("SET search_path = ci, public")
            shop(ci)
            with_item_count(ci)
            ci.execute("SET search_path = ci")      # prisma migrate deploy with ?schema=ci
            applied = prisma_deploy(ci, folder)
            assert len(applied) == len(texts)
            built = {r[0] for r in ci.execute(
                "SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
                "WHERE c.relnamespace = 'ci'::regnamespace AND x.indisvalid")}
            assert {ix.name for p in m.phases for ix in p.indexes} <= built, built
            checks = {r[0] for r in ci.execute("SELECT conname FROM pg_constraint "
                                               "WHERE connamespace = 'ci'::regnamespace AND convalidated")}
            assert {c.name for p in m.phases if p.step == plan.PhaseStep.VALIDATE for c in p.constraints
                    if not c.set_not_null} <= checks, checks
    finally:
        with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_multi_schema_names_stay_qualified(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """multiSchema (the datasource's ``schemas``): Prisma's migrations qualify every table, and so do pgtune's."""
    path = tmp_path / "schema.prisma"
    path.write_text(_SCHEMA % ('\n  schemas  = ["fb", "audit"]', '\n  @@schema("fb")', '\n  @@schema("fb")'))
    _emit(conn, tmp_path / "m", prisma=api.PrismaOptions(schema=path))
    builds, checks = _statements(tmp_path / "m", "CREATE INDEX"), _statements(tmp_path / "m", "ALTER TABLE")
    assert builds and all(' ON fb."order"' in b or " ON fb.users" in b for b in builds), builds
    assert checks and all(line.startswith('ALTER TABLE fb."order"') for line in checks), checks


def test_without_a_ledger_the_schema_file_names_the_connections_schema(conn: psycopg.Connection[Any],
                                                                        tmp_path: Path) -> None:
    """No _prisma_migrations (a database made with prisma db push), --prisma-schema without multiSchema: the
    connection's schema is the ?schema= Prisma migrates; another schema's table keeps its schema."""
    path = tmp_path / "schema.prisma"
    path.write_text(_SCHEMA % ("", "", ""))
    m = _emit(conn, tmp_path / "m", ledger=False, prisma=api.PrismaOptions(schema=path))
    builds = _statements(tmp_path / "m", "CREATE INDEX")
    assert builds and all(' ON "order"' in b or " ON users" in b for b in builds), builds
    files = plan.write_layout(m, tmp_path / "elsewhere", plan.Layout.PRISMA, prisma_home="audit")
    moved = [line for f in files for line in f.read_text().splitlines() if line.startswith("CREATE INDEX")]
    assert moved and all(' ON fb."order"' in b or " ON fb.users" in b for b in moved), moved


def _down_statements(folder: Path) -> list[str]:
    """The statements of pgtune's own down scripts, in the first Prisma folder (pgtune/NN_down.sql)."""
    return [s for f in sorted(folder.glob(f"*/{plan.PLAN_DIR}/*_down.sql")) for s in split(f.read_text())]


def test_the_down_scripts_name_things_as_the_migrations_do(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """pgtune/NN_down.sql in the first folder stayed schema-qualified (``DROP INDEX … fb."order_…"``) while the
    migration.sql it undoes is unqualified (c38): now unqualified in the ledger's schema, and run under that
    search_path (as its first line says) it undoes the deployed migration; multiSchema keeps fb. everywhere."""
    folder = tmp_path / "prisma" / "migrations"
    m = _emit(conn, folder)
    downs = _down_statements(folder)
    assert any(s.startswith("DROP INDEX") for s in downs), downs
    # Without the fix: every DROP INDEX and ALTER TABLE here reads fb."…" or fb.users.
    assert not [s for s in downs if "fb." in s], downs
    heads = [f.read_text().splitlines()[0] for f in sorted(folder.glob(f"*/{plan.PLAN_DIR}/*_down.sql"))]
    assert all("search_path=fb" in h for h in heads), heads
    lint = subprocess.run([squawk_bin(), f"--pg-version={conn.info.server_version // 10000}",
                           *map(str, sorted(folder.glob(f"*/{plan.PLAN_DIR}/*_down.sql")))],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    prisma_deploy(conn, folder)
    built = [ix.name for p in m.phases for ix in p.indexes]
    conn.execute("SET search_path = fb")
    for f in sorted(folder.glob(f"*/{plan.PLAN_DIR}/*_down.sql"), reverse=True):
        for unit in units(split(f.read_text())):
            with conn.transaction() if unit.block else contextlib.nullcontext():
                for s in unit.statements:
                    conn.execute(s)
    left = conn.execute("SELECT relname FROM pg_class WHERE relname = ANY(%s)", (built,)).fetchall()
    assert built and not left, left

    path = tmp_path / "schema.prisma"
    path.write_text(_SCHEMA % ('\n  schemas  = ["fb", "audit"]', '\n  @@schema("fb")', '\n  @@schema("fb")'))
    conn.execute("DROP SCHEMA fb CASCADE")
    _emit(conn, tmp_path / "multi", prisma=api.PrismaOptions(schema=path))
    drops = [s for s in _down_statements(tmp_path / "multi") if s.startswith("DROP INDEX")]
    assert drops and all(" fb." in s for s in drops), drops
