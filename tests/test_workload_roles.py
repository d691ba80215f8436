"""Whose statements are the workload (u's F7): a DBA's ad-hoc psql queries as a superuser, beside the application's
own role, put an index on a legacy table the application never reads. Now a superuser's statements beside another
role's are left out by default, with one line saying so; --workload-role names the workload's roles."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from pgtune.cli import cli

SETUP = """
CREATE TABLE legacy_accounts (id bigint PRIMARY KEY, email text NOT NULL);
INSERT INTO legacy_accounts SELECT g, 'a' || g || '@example.com' FROM generate_series(1, 60000) g;
CREATE TABLE orders (id bigint PRIMARY KEY, "customerId" bigint NOT NULL, total numeric NOT NULL);
INSERT INTO orders SELECT g, g % 5000, g % 700 FROM generate_series(1, 80000) g;
ANALYZE legacy_accounts, orders;
"""


def _role(conn: psycopg.Connection[Any], name: str) -> None:
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
    conn.execute(sql.SQL("GRANT SELECT ON orders TO {}").format(sql.Identifier(name)))


def _read(out: str) -> set[str]:
    """The tables the analyzed statements read (by name, in their text)."""
    texts = [st["query"] for st in json.loads(out)["statements"]]
    return {t for t in ("orders", "legacy_accounts") if any(t in q for q in texts)}


def _tables(out: str) -> set[str]:
    return {ix["table"] for ix in json.loads(out)["indexes"]}


def test_a_superusers_adhoc_statements_beside_the_app_are_not_the_workload(db: str, conn: psycopg.Connection[Any]
                                                                          ) -> None:
    conn.execute(SETUP)
    app_role = f"orders_app_{conn.info.dbname}"       # roles are the cluster's: one per test database
    _role(conn, app_role)
    conn.execute("SELECT pg_stat_statements_reset(), pg_stat_reset()")   # the window starts after the load
    with psycopg.connect(db, user=app_role, autocommit=True) as app:
        for i in range(300):
            app.execute('SELECT id, total FROM orders WHERE "customerId" = %s', (i,))
    for i in range(20):                                 # the DBA, as the harness's superuser, in psql
        conn.execute("SELECT count(*) FROM legacy_accounts WHERE email = %s", (f"a{i}@example.com",))
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--format", "json", "--no-constraints"])
    assert out.exit_code == 0, out.output
    assert _tables(out.stdout) == {"orders"}
    hints = json.loads(out.stdout)["hints"]
    assert any("run by superuser" in h and "--workload-role" in h for h in hints), hints
    named = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--format", "json", "--no-constraints",
                                     "--workload-role", conn.info.user, "--workload-role", app_role])
    assert named.exit_code == 0, named.output
    assert {"orders", "legacy_accounts"} <= _read(named.stdout)        # both roles' statements analyzed
    assert _read(out.stdout) == {"orders"}
    only = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--format", "json", "--no-constraints",
                                    "--workload-role", conn.info.user])
    assert _tables(only.stdout) == {"legacy_accounts"}


def test_a_superuser_alone_is_the_application(db: str, conn: psycopg.Connection[Any]) -> None:
    """Many applications run as the superuser: with no other role's statements, nothing is left out."""
    conn.execute(SETUP)
    conn.execute("SELECT pg_stat_statements_reset(), pg_stat_reset()")   # the window starts after the load
    for i in range(300):
        conn.execute('SELECT id, total FROM orders WHERE "customerId" = %s', (i,))
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--format", "json", "--no-constraints"])
    assert out.exit_code == 0, out.output
    assert _tables(out.stdout) == {"orders"}
    hints = json.loads(out.stdout)["hints"]
    assert not any("run by superuser" in h for h in hints), hints      # workload.read_adhoc's line


def test_no_workload_is_not_called_served(db: str, conn: psycopg.Connection[Any]) -> None:
    """u's F8: with nothing in pg_stat_statements, 'the workload is already served' was a verdict on no evidence."""
    conn.execute(SETUP)
    conn.execute("SELECT pg_stat_statements_reset()")
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--no-constraints", "--min-calls", "1000"])
    assert out.exit_code == 0, out.output
    assert "no statement to analyze" in out.stdout and "already served" not in out.stdout


SESSION_SCHEMA = """
CREATE SCHEMA umami AUTHORIZATION {role};
CREATE TABLE umami.website_event (event_id bigint PRIMARY KEY, website_id int NOT NULL,
  created_at timestamptz NOT NULL, url_path text NOT NULL);
INSERT INTO umami.website_event SELECT i, i % 100, now() - (i * 10 || ' seconds')::interval, '/p' || (i % 50)
FROM generate_series(1, 100000) i;
ANALYZE umami.website_event;
ALTER TABLE umami.website_event OWNER TO {role};
"""


@pytest.mark.needs_hypopg
@pytest.mark.parametrize("how", ["SET", "startup"])
def test_a_search_path_the_application_sets_per_session_resolves_its_names(db: str, conn: psycopg.Connection[Any],
                                                                           how: str) -> None:
    """u2's F8: Prisma's ?schema=umami sends SET search_path TO "umami" per session, no ALTER ROLE; every
    unqualified statement was 'references no known table' and the headline came from the rest. pg_stat_statements
    keeps the SET (PostgreSQL 15); a path set at connection start (or a SET normalized to `= $1`, 16+) leaves no
    trace: the one schema the role may use that holds its tables is then taken, and said."""
    role = f"umami_app_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    conn.execute(sql.SQL(SESSION_SCHEMA).format(role=sql.Identifier(role)))
    conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(db, user=role, autocommit=True,
                         options="-c search_path=umami" if how == "startup" else None) as app:
        for i in range(30):
            if how == "SET":
                app.execute('SET search_path TO "umami"')
            app.execute("SELECT url_path x, count(*) AS y FROM website_event WHERE website_id = %s AND created_at "
                        "BETWEEN now() - interval '1 day' AND now() GROUP BY 1 ORDER BY 2 DESC LIMIT 500", (i,))
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--format", "json", "--no-constraints"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert not [s for s in doc["skipped"] if "website_event" in s["query"]], doc["skipped"]
    [row] = [s for s in doc["statements"] if "website_event" in s["query"]]
    assert row["search_path"] == (["umami"] if how == "SET" else ["public", "umami"]), row
    said = "its sessions set (SET search_path" if how == "SET" else "found in schema umami only"
    assert any(role in h and said in h for h in doc["hints"]), doc["hints"]
    # Which of (website_id), (created_at) leads moves with the load; the table is umami's.
    assert {(ix["schema"], ix["table"]) for ix in doc["indexes"]} == {("umami", "website_event")}, doc["indexes"]
    assert row["cost_after"] is not None and row["cost_after"] < row["cost_before"] / 2, row


def test_a_role_the_server_does_not_have_is_refused(db: str, conn: psycopg.Connection[Any]) -> None:
    """u3's R7: a misspelled --workload-role found no statement and exited 0, as if the workload were served."""
    conn.execute(SETUP)
    for i in range(50):
        conn.execute('SELECT id, total FROM orders WHERE "customerId" = %s', (i,))
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--no-constraints", "--workload-role", conn.info.user,
                                   "--workload-role", "No_Such_Role"])
    assert out.exit_code == 2, out.output
    assert out.stderr.strip().splitlines() == [
        "pgtune: --workload-role 'No_Such_Role': no such role on this server (names are case-sensitive)"], out.stderr
    assert "Traceback" not in out.output
