"""A statement a PL/pgSQL function or trigger ran names the function's variables (p19, MEDIUM).

With pg_stat_statements.track = all, an Umami-shaped server's costliest statement
(2,285 ms a call) was the query inside a reporting function, recorded as written:
``WHERE e.website_id = p_website AND e.created_at >= p_since``. suggest planned it
alone, which the server refused at every run (an ERROR in its log), and listed it
as ``cannot plan: column "p_website" does not exist``; a trigger's
``WHERE session_id = NEW.session_id`` the same way ("missing FROM-clause entry for
table "new""). Now such a statement is skipped before planning, kind
``in-function``, with a reason that names the variables and what to do.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.cli import cli


def test_a_functions_statement_is_skipped_as_in_function(db: str, conn: psycopg.Connection[Any]) -> None:
    if conn.info.server_version < 140000:
        pytest.skip("pg_stat_statements says which statements ran nested from PostgreSQL 14 on")
    conn.execute("CREATE TABLE event (id bigint PRIMARY KEY, site int NOT NULL, at timestamptz NOT NULL, "
                 "tag text, session_id bigint)")
    conn.execute("INSERT INTO event SELECT g, g % 100, now() - g * interval '1 minute', NULL, g % 5000 "
                 "FROM generate_series(1, 50000) g")
    conn.execute("CREATE TABLE session (id bigint PRIMARY KEY, tag text)")
    conn.execute("INSERT INTO session SELECT g, NULL FROM generate_series(1, 5000) g")
    conn.execute("ANALYZE event; ANALYZE session")
    conn.execute("""CREATE FUNCTION site_views(p_site int, p_since timestamptz) RETURNS bigint
                    LANGUAGE plpgsql STABLE AS $f$
                    BEGIN
                      RETURN (SELECT count(*) FROM event e WHERE e.site = p_site AND e.at >= p_since);
                    END $f$""")
    conn.execute("""CREATE FUNCTION tag_session() RETURNS trigger LANGUAGE plpgsql AS $f$
                    BEGIN
                      UPDATE session SET tag = NEW.tag WHERE id = NEW.session_id AND NEW.tag IS NOT NULL;
                      RETURN NEW;
                    END $f$""")
    conn.execute("CREATE TRIGGER event_tag AFTER INSERT ON event FOR EACH ROW EXECUTE FUNCTION tag_session()")
    conn.execute("SELECT pg_stat_statements_reset()")
    conn.execute("SET pg_stat_statements.track = 'all'")
    for site in range(20):
        conn.execute("SELECT site_views(%s, now() - interval '1 hour')", (site,))
        conn.execute("INSERT INTO event VALUES (%s, 1, now(), 'beta', %s)", (100000 + site, site + 1))
    conn.execute("RESET pg_stat_statements.track")

    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--format", "json"])
    assert out.exit_code == 0, out.output
    skipped = {s["query"].lstrip("(").split()[0].upper(): s for s in json.loads(out.stdout)["skipped"]
               if "p_site" in s["query"] or "NEW." in s["query"].upper()}
    assert set(skipped) == {"SELECT", "UPDATE"}, skipped
    # Without the fix: kind "cannot-plan", reason 'cannot plan: column "p_site" does not exist …'.
    assert skipped["SELECT"]["kind"] == "in-function", skipped["SELECT"]
    assert "p_site is one of its variables, not a column" in skipped["SELECT"]["reason"]
    assert skipped["UPDATE"]["kind"] == "in-function", skipped["UPDATE"]
    assert "new.session_id, new.tag are its variables" in skipped["UPDATE"]["reason"]
    assert "--queries" in skipped["UPDATE"]["reason"]
