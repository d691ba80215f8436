"""A superuser's load beside the application's role is not the application's write upkeep (u4's F1, formbricks).

On a formbricks-shaped database, 200,000 contacts loaded in psql by the
superuser were in pg_stat_statements' window. suggest left that superuser's
statements out of the workload ("a person's, not the workload's") but charged
its 200,000 inserts as upkeep of every index on "Contact", so the contacts
page (the app role's ``"workspaceId" = $1 ORDER BY created_at DESC LIMIT``, 100x
cheaper with an index) got no proposal. A pg_stat_statements_reset after the
load made it appear. Its writes are now left out as its reads are; naming the
roles (--workload-role) still counts every role's writes.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgtune.cli import cli

LOAD = """
CREATE TABLE "Contact" (id text PRIMARY KEY, created_at timestamp(3) NOT NULL, "workspaceId" text NOT NULL);
CREATE INDEX "Contact_workspaceId_idx" ON "Contact" ("workspaceId");
INSERT INTO "Contact" SELECT 'ct' || g, now() - g * interval '1 minute', 'ws' || (1 + (g % 40) * (g % 7))
FROM generate_series(1, 200000) g;
ANALYZE "Contact";
"""
PAGE = ('SELECT "public"."Contact"."id", "public"."Contact"."created_at" FROM "public"."Contact" '
        'WHERE "public"."Contact"."workspaceId" = %s ORDER BY "public"."Contact"."created_at" DESC LIMIT %s OFFSET %s')


@pytest.mark.needs_hypopg
def test_a_superusers_load_beside_the_app_role_is_not_charged_as_its_writes(
        db: str, conn: psycopg.Connection[Any]) -> None:
    role = f"app_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        # Both windows start now: this database's counters would otherwise count from the server's start
        # (a new database has no stats_reset), and suggest scales them to pg_stat_statements' few seconds.
        conn.execute("SELECT pg_stat_statements_reset(), pg_stat_reset()")
        conn.execute(LOAD)
        # The load's inserts reach the tables' counters when this backend flushes its statistics, which
        # PostgreSQL may put off for up to 10 s: flushed now, so the window's gap is there to be told.
        conn.execute("SELECT pg_stat_force_next_flush()")
        conn.execute(sql.SQL("GRANT SELECT ON \"Contact\" TO {}").format(sql.Identifier(role)))
        app_dsn = make_conninfo("", **{**conninfo_to_dict(db), "user": role})
        with psycopg.connect(app_dsn, autocommit=True) as app:
            for i in range(20):
                app.execute(PAGE, ("ws1", 50, 50 * (i % 2)))
        out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--format", "json", "--no-constraints"])
        assert out.exit_code == 0, out.output
        doc = json.loads(out.stdout)
        assert [ix["table"] for ix in doc["indexes"]] == ["Contact"], (doc["hints"], doc["statements"])
        assert any('"Contact": charged 0 written rows' in h for h in doc["hints"]), doc["hints"]
        named = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--format", "json", "--no-constraints",
                                         "--workload-role", role])
        assert named.exit_code == 0, named.output
        assert not any("charged 0 written rows" in h for h in json.loads(named.stdout)["hints"])
    finally:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
