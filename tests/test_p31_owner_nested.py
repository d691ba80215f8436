"""p31 (a Civitai-shaped database on PostgreSQL 18, pg_stat_statements.track = all): the foreign-key checks every
INSERT of the application fires run as the owner of the referenced table, a superuser there. suggest said
"left out 3 statement(s) (28,096 calls) run by superuser postgres beside the application's own roles (a person's,
not the workload's); to count them: --workload-role postgres": the statements were the application's own, run
nested inside its INSERTs (RI triggers, and SECURITY DEFINER functions, run as their owner), not a person's in
psql. A superuser's nested statements are now the workload's; only its top-level ones are left out and counted
in that line."""

from __future__ import annotations

import json
import re
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from pgtune.cli import cli

SETUP = """
CREATE TABLE "Image" (id int PRIMARY KEY, url text NOT NULL);
INSERT INTO "Image" SELECT g, 'u' || g FROM generate_series(1, 20000) g;
CREATE TABLE "ImageMetric" ("imageId" int NOT NULL REFERENCES "Image" (id), n int NOT NULL DEFAULT 0);
ANALYZE "Image";
"""


def test_a_superuser_owners_foreign_key_checks_are_not_a_persons_statements(
        db: str, conn: psycopg.Connection[Any]) -> None:
    if conn.info.server_version < 140000:
        pytest.skip("pg_stat_statements says which statements ran nested from PostgreSQL 14 on")
    conn.execute(SETUP)
    app_role = f"civitai_app_{conn.info.dbname}"          # roles are the cluster's: one per test database
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(app_role)))
    conn.execute(sql.SQL('GRANT SELECT, INSERT ON "Image", "ImageMetric" TO {}').format(sql.Identifier(app_role)))
    try:
        conn.execute(sql.SQL("ALTER ROLE {} SET pg_stat_statements.track = 'all'").format(sql.Identifier(app_role)))
        conn.execute("SELECT pg_stat_statements_reset()")
        with psycopg.connect(db, user=app_role, autocommit=True) as app:
            for i in range(1, 301):
                app.execute('INSERT INTO "ImageMetric" ("imageId") VALUES (%s)', (i,))
                app.execute('SELECT "imageId", n FROM "ImageMetric" WHERE "imageId" = %s', (i,))
        nested = conn.execute("SELECT count(*) FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid "
                              "WHERE r.rolsuper AND NOT s.toplevel AND s.query LIKE '%FOR KEY SHARE%'").fetchone()
        assert nested == (1,)          # not vacuous: the owner's nested foreign-key check is there
        out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--format", "json", "--no-constraints"])
        assert out.exit_code == 0, out.output
        advice = json.loads(out.stdout)
        # the harness's own top-level statements (the reset, the count above) may still be named: not the checks
        calls = [int(m.group(1).replace(",", "")) for h in advice["hints"]
                 if (m := re.search(r"\(([\d,]+) calls\) run by superuser", h))]
        assert all(c < 300 for c in calls), advice["hints"]
        assert [ix["table"] for ix in advice["indexes"]] == ["ImageMetric"]     # the application's lookup
    finally:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(app_role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(app_role)))
