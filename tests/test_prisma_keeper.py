"""Which of two identical indexes health keeps on a Prisma database: the one the application declares (u3's R2).

A database shaped like rallly's: its first migration built ``"User_email_key"`` on table
``"User"``; a later one renamed the table to ``users`` (the index kept its old name) and
built ``users_email_key``, the name Prisma gives ``email String @unique`` on a model
``@@map("users")``. The schema declares the second only, so ``prisma migrate dev`` drops
the first as drift: had health dropped the second and told the user to remove
``@unique``, the email column would be left with no unique index at all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pglast
import psycopg
from click.testing import CliRunner

from pgtune.cli import cli

from .test_layouts import PRISMA_LEDGER

SCHEMA = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id    String @id
  name  String
  email String @unique

  polls Poll[]

  @@map("users")
}

model Poll {
  id     String @id
  title  String
  userId String @map("user_id")
  user   User   @relation(fields: [userId], references: [id])

  @@index([userId])
  @@map("polls")
}
"""

# The two migrations, as Prisma wrote rallly's (init, then the naming-convention update), cut down.
INIT = """CREATE TABLE "User" ("id" TEXT NOT NULL, "name" TEXT NOT NULL, "email" TEXT NOT NULL,
    CONSTRAINT "User_pkey" PRIMARY KEY ("id"));
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
CREATE TABLE "Poll" ("id" TEXT NOT NULL, "title" TEXT NOT NULL, "userId" TEXT NOT NULL,
    CONSTRAINT "Poll_pkey" PRIMARY KEY ("id"));
"""
RENAME = """ALTER TABLE "User" RENAME TO "users";
ALTER TABLE "Poll" RENAME TO "polls";
ALTER TABLE "polls" RENAME COLUMN "userId" TO "user_id";
ALTER TABLE "users" RENAME CONSTRAINT "User_pkey" TO "users_pkey";
ALTER TABLE "polls" RENAME CONSTRAINT "Poll_pkey" TO "polls_pkey";
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");
CREATE INDEX "polls_user_id_idx" ON "polls"("user_id");
ALTER TABLE "polls" ADD CONSTRAINT "polls_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id");
"""


def rallly_db(conn: psycopg.Connection[Any], *, ledger: bool = True) -> None:
    conn.execute(INIT)
    conn.execute(RENAME)
    if ledger:
        conn.execute(PRISMA_LEDGER)
        for name in ("20220315143815_init", "20220511180705_naming_convention_update"):
            conn.execute("INSERT INTO _prisma_migrations (id, checksum, migration_name, finished_at, "
                         "applied_steps_count) VALUES (md5(%s), md5(%s), %s, now(), 1)", (name, name, name))
    conn.execute("INSERT INTO users SELECT g::text, 'n', 'u' || g || '@example.com' FROM generate_series(1, 50) g")
    conn.execute("ANALYZE")


def _health(db: str, *args: str) -> dict[str, Any]:
    out = CliRunner().invoke(cli, ["health", "--dsn", db, "--check", "duplicate-index", "--min-stats-age", "0",
                                   "--format", "json", *args])
    assert out.exit_code in (0, 1), out.output
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def _unique_on_email(conn: psycopg.Connection[Any]) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
        "WHERE x.indrelid = 'users'::regclass AND x.indisunique AND NOT x.indisprimary")}


def test_the_schema_decides_which_index_stays(conn: psycopg.Connection[Any], db: str, tmp_path: Path) -> None:
    """--prisma-schema: the undeclared "User_email_key" goes, users_email_key stays, and no line is to be removed."""
    rallly_db(conn)
    schema = tmp_path / "schema.prisma"
    schema.write_text(SCHEMA)
    migrations = tmp_path / "migrations"
    data = _health(db, "--prisma-schema", str(schema), "--emit", str(migrations), "--layout", "prisma")
    [finding] = data["findings"]
    assert (finding["index"], finding["evidence"]["duplicate_of"]) == ("User_email_key", "users_email_key")
    assert finding["fix"] == ['DROP INDEX CONCURRENTLY IF EXISTS "public"."User_email_key"']
    assert not [p for p in data["prisma"]["proposals"] if p["fit"] == "remove"], data["prisma"]
    statements = [s for f in sorted(migrations.iterdir()) for s in pglast.split((f / "migration.sql").read_text())]
    drops = [s for s in statements if s.upper().startswith("DROP INDEX")]
    # Unqualified, as Prisma's own migrations name what its ledger's schema holds (a37)
    assert drops == ['DROP INDEX CONCURRENTLY IF EXISTS "User_email_key"'], statements
    # What the emitted migration leaves is what the schema declares: email keeps its unique index.
    for s in drops:
        conn.execute(s)
    assert _unique_on_email(conn) == {"users_email_key"}


def test_the_ledger_and_prismas_names_decide_without_a_schema(conn: psycopg.Connection[Any], db: str) -> None:
    """No schema, Prisma's ledger: the index under the name Prisma gives users(email) today is the one kept."""
    rallly_db(conn)
    [finding] = _health(db)["findings"]
    assert (finding["index"], finding["evidence"]["duplicate_of"]) == ("User_email_key", "users_email_key")
    assert finding["fix"] == ['DROP INDEX CONCURRENTLY IF EXISTS "public"."User_email_key"']


def test_no_drop_when_pgtune_cannot_tell_which_the_application_declares(conn: psycopg.Connection[Any],
                                                                         db: str) -> None:
    """Prisma's ledger, no schema, and neither name is Prisma's: reported, with no statement to drop either."""
    rallly_db(conn)
    conn.execute('ALTER INDEX users_email_key RENAME TO "users_email_unique"')
    [finding] = _health(db)["findings"]
    assert finding["fix"] == [], finding
    assert "--prisma-schema" in finding["message"]


def test_without_a_migration_tool_the_oldest_stays(conn: psycopg.Connection[Any], db: str) -> None:
    """No ledger and no schema: nothing declares either, the oldest is kept (as before)."""
    rallly_db(conn, ledger=False)
    [finding] = _health(db)["findings"]
    assert (finding["index"], finding["evidence"]["duplicate_of"]) == ("users_email_key", "User_email_key")
