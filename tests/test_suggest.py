"""suggest against a real server: what it proposes, what it leaves alone, and why."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.analyze import Options
from pgtune.capture import Statement
from pgtune.cli import cli
from pgtune.cluster import LocalCluster

from .helpers import ORDERS_BY_USER, run, shop, suggest


def _users(n: int = 10) -> list[tuple[Any, ...]]:
    return [(i,) for i in range(1, n + 1)]


@pytest.mark.needs_hypopg
def test_camelcase_and_keyword_table_come_out_quoted(conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    run(conn, ORDERS_BY_USER, _users())
    advice = suggest(conn)
    assert advice.method == "hypopg"
    ix = next(i for i in advice.indexes if i.table == "order")
    # With the values it runs with (a user has 12 orders), the planner fetches them and sorts: ("userId")
    # is all the statement needs (only its generic plan would walk a ("userId", "createdAt" DESC)).
    assert ix.columns == ["userId"]
    assert ix.ddl == 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "order_userId_idx" ON public."order" ("userId")'
    assert ix.rollback == 'DROP INDEX CONCURRENTLY IF EXISTS public."order_userId_idx"'
    assert ix.queries and ix.queries[0].calls == 10
    assert ix.cost_before is not None and ix.cost_after is not None and ix.cost_after < ix.cost_before
    # The DDL runs as is (outside a transaction) and builds what it says.
    conn.execute(ix.ddl)
    row = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", (ix.name,)).fetchone()
    assert row and 'ON public."order" USING btree ("userId")' in row[0]


@pytest.mark.needs_hypopg
def test_suggestions_cut_workload_cost(conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    run(conn, ORDERS_BY_USER, _users())
    run(conn, "SELECT * FROM users WHERE \"createdAt\" > now() - interval '1 day' ORDER BY \"createdAt\"")
    advice = suggest(conn)
    assert advice.workload_cost_before and advice.workload_cost_after
    assert advice.workload_cost_before / advice.workload_cost_after > 5


def test_existing_index_is_not_suggested_again(conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    conn.execute('CREATE INDEX existing_idx ON "order" ("userId", "createdAt" DESC)')
    conn.execute("SELECT pg_stat_statements_reset()")
    run(conn, ORDERS_BY_USER, _users())
    run(conn, 'SELECT count(*) FROM "order" WHERE "userId" = %s', _users())  # prefix of the existing index
    advice = suggest(conn)
    assert [i for i in advice.indexes if i.table == "order"] == []


def test_unique_constraint_serves_equality(conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    run(conn, "SELECT id FROM users WHERE email = %s", [("u1@example.com",)])
    assert [i for i in suggest(conn).indexes if i.table == "users"] == []


def test_composite_orders_equality_by_selectivity_then_range(conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    run(conn, 'SELECT id FROM "order" WHERE status = %s AND "userId" = %s AND "createdAt" > now() - interval \'1 day\'',
        [("paid", 3)])
    advice = suggest(conn, options=Options(use_hypopg=False))
    ix = next(i for i in advice.indexes if i.table == "order")
    # userId (5000 distinct) before status (2 distinct); the range column last.
    assert ix.columns == ["userId", "status", "createdAt"]


def test_foreign_key_without_index_is_found(conn: psycopg.Connection[Any]) -> None:
    shop(conn)     # "order"."userId" REFERENCES users ON DELETE CASCADE, no index
    # A cascade that never fires would only slow the writes (the demo never deletes a user).
    assert [i for i in suggest(conn, statements=[]).indexes if i.table == "order"] == []
    conn.execute("INSERT INTO users VALUES (0, 'gone@example.com', now()); DELETE FROM users WHERE id = 0")
    conn.execute("SELECT pg_stat_force_next_flush()")
    advice = suggest(conn, statements=[])
    fk = [i for i in advice.indexes if i.table == "order"]
    assert [i.columns for i in fk] == [["userId"]]
    assert fk[0].origin == "foreign key"
    assert "foreign key order_userId_fkey" in fk[0].reason


def test_no_action_foreign_key_needs_deletes_on_the_parent(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE tags (id int PRIMARY KEY); INSERT INTO tags SELECT generate_series(1, 100)")
    conn.execute("CREATE TABLE notes (id int PRIMARY KEY, tag int REFERENCES tags); "
                 "INSERT INTO notes SELECT g, 1 + g % 100 FROM generate_series(1, 20000) g; ANALYZE")
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.execute("SELECT pg_stat_reset()")
    # NO ACTION and a parent nobody deletes from: the index would only slow writes.
    assert suggest(conn, statements=[]).indexes == []
    conn.execute("INSERT INTO tags VALUES (1000); DELETE FROM tags WHERE id = 1000")   # the check scans notes
    conn.execute("SELECT pg_stat_force_next_flush()")
    assert [i.columns for i in suggest(conn, statements=[]).indexes] == [["tag"]]



def test_a_foreign_key_an_index_on_its_leading_column_serves_gets_no_second_index(
        conn: psycopg.Connection[Any]) -> None:
    """u's F4, suggest's side: the parent's deletes probe ("eventId") (one row per value) and filter the rest."""
    conn.execute('CREATE TABLE events (id bigint, "createdAt" timestamp(3), PRIMARY KEY (id, "createdAt")); '
                 "INSERT INTO events SELECT i, '2026-01-01'::timestamp + i * interval '1 minute' "
                 "FROM generate_series(1, 20000) i")
    conn.execute('CREATE TABLE alerts (id int PRIMARY KEY, "eventId" bigint NOT NULL, "eventCreatedAt" timestamp(3), '
                 'FOREIGN KEY ("eventId", "eventCreatedAt") REFERENCES events ON DELETE CASCADE); '
                 'INSERT INTO alerts SELECT id, id, "createdAt" FROM events; ANALYZE')
    conn.execute("DELETE FROM events WHERE id = 20000")
    conn.execute("SELECT pg_stat_force_next_flush()")
    assert [i.columns for i in suggest(conn, statements=[]).indexes] == [["eventId", "eventCreatedAt"]]
    conn.execute('CREATE INDEX "alerts_eventId_idx" ON alerts ("eventId"); ANALYZE alerts')
    assert suggest(conn, statements=[]).indexes == []


FEED = ('SELECT o.id, o.total, u.email FROM "order" o JOIN users u ON u.id = o."userId" '
        "WHERE o.status = 'pending' ORDER BY o.\"createdAt\" DESC LIMIT 20")


@pytest.mark.needs_hypopg
def test_a_joined_foreign_key_no_plan_uses_leaves_the_set_and_one_kept_for_deletes_says_so(
        conn: psycopg.Connection[Any]) -> None:
    """Issue 23 point 8 (`make demo` proposed comments ("userId")): the feed joins users on "order"."userId", so its
    foreign key was topped up, though the plan probes users' primary key and never reads that index. A key
    kept because it is joined must be in some statement's plan with the final set; one kept for the deletes
    on its parent (a search no plan shows) stays, and its reason says so."""
    shop(conn)     # "order"."userId" REFERENCES users ON DELETE CASCADE, no index; nobody deletes users yet
    feed = [Statement(queryid=None, query=FEED, calls=100, total_ms=100.0, mean_ms=1.0)]
    advice = suggest(conn, feed)
    assert advice.indexes, advice.statements          # the feed gets its index
    assert [ix.name for ix in advice.indexes if not ix.queries] == [], [(ix.name, ix.reason) for ix in advice.indexes]
    assert not [ix for ix in advice.indexes if ix.columns == ["userId"]]
    conn.execute("INSERT INTO users VALUES (0, 'gone@example.com', now()); DELETE FROM users WHERE id = 0")
    conn.execute("SELECT pg_stat_force_next_flush()")
    advice = suggest(conn, feed)
    [fk] = [ix for ix in advice.indexes if ix.columns == ["userId"]]
    assert not fk.queries and fk.origin == "foreign key"
    assert "no statement's plan uses it: kept for the deletes on users" in fk.reason, fk.reason


def test_foreign_key_the_workload_joins_on_is_found(conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    run(conn, 'SELECT u.email FROM users u JOIN "order" o ON o."userId" = u.id WHERE u.id = %s', [(3,)])
    advice = suggest(conn, options=Options(use_hypopg=False))
    assert [i.columns for i in advice.indexes if i.table == "order"] == [["userId"]]


def test_wider_candidate_absorbs_narrower_one(conn: psycopg.Connection[Any]) -> None:
    """From shapes alone (no HypoPG): one index serves both. With HypoPG, see test_selection's widening."""
    shop(conn)
    run(conn, ORDERS_BY_USER, _users())
    run(conn, 'SELECT count(*) FROM "order" WHERE "userId" = %s', _users())
    advice = suggest(conn, options=Options(use_hypopg=False))
    on_order = [i for i in advice.indexes if i.table == "order"]
    assert len(on_order) == 1 and on_order[0].columns == ["userId", "createdAt"]
    assert len(on_order[0].queries) == 2


def test_tiny_tables_are_skipped(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE small (id int PRIMARY KEY, code text); INSERT INTO small SELECT g, g::text "
                 "FROM generate_series(1, 50) g; ANALYZE small")
    conn.execute("SELECT pg_stat_statements_reset()")
    run(conn, "SELECT * FROM small WHERE code = %s", [("7",)])
    assert suggest(conn).indexes == []
    assert [i.columns for i in suggest(conn, options=Options(min_rows=0, use_hypopg=False)).indexes] == [["code"]]


def test_unparsable_and_utility_statements_are_skipped_with_reason(conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    from pgtune.capture import Statement

    stmts = [Statement("SELECT * FROM users WHERE email = 'trunc"), Statement("CREATE TABLE t9 (a int)"),
             Statement("VACUUM users"), Statement("BEGIN"), Statement("SET work_mem = '64MB'"),
             Statement('SELECT id FROM "order" WHERE "userId" = 3')]
    advice = suggest(conn, statements=stmts)
    reasons = sorted(s.reason.split(":")[0].split(" (")[0] for s in advice.skipped)
    # DDL is listed; session and maintenance chatter (VACUUM, BEGIN, SET) is left out silently.
    assert reasons == ["truncated or incomplete statement", "utility statement"]
    assert any(i.table == "order" for i in advice.indexes)



def test_skip_reasons_name_a_sample_a_function_and_the_catalog_not_a_dropped_table(
        conn: psycopg.Connection[Any]) -> None:
    """u's F9: TABLESAMPLE, a function's column alias and catalog views are not "no known table (dropped?)"."""
    shop(conn)
    stmts = [Statement('SELECT "userId" FROM "order" TABLESAMPLE SYSTEM (2)'),
             Statement("INSERT INTO users (id, email) SELECT i, 'u' || i FROM generate_series($1, $2) i"),
             Statement("SELECT count(*) FROM pg_locks WHERE locktype = $1"),
             Statement("SELECT relname FROM pg_catalog.pg_class c JOIN information_schema.tables t "
                       "ON t.table_name = c.relname"),
             Statement("SELECT x FROM dropped_long_ago WHERE y = $1")]
    advice = suggest(conn, statements=stmts)
    reasons = {s.query: s.reason for s in advice.skipped}
    assert stmts[0].query not in reasons          # a sample of "order" is analyzed: no index serves it
    assert reasons[stmts[1].query] == "no filter, join or sort on a user table"
    assert reasons[stmts[2].query].startswith("reads only catalog tables or views (pg_locks)")
    assert reasons[stmts[3].query].startswith("reads only catalog tables or views (pg_class, tables)")
    assert reasons[stmts[4].query].startswith("references no known table (temporary or dropped?): dropped_long_ago")


def test_hostile_identifiers_are_quoted(conn: psycopg.Connection[Any]) -> None:
    conn.execute('CREATE TABLE "a""b" (id int PRIMARY KEY, "x; DROP TABLE y" int)')
    conn.execute('INSERT INTO "a""b" SELECT g, g % 3000 FROM generate_series(1, 30000) g; ANALYZE "a""b"')
    conn.execute("SELECT pg_stat_statements_reset()")
    run(conn, 'SELECT * FROM "a""b" WHERE "x; DROP TABLE y" = %s', [(5,)])
    advice = suggest(conn)
    [ix] = advice.indexes
    assert ix.ddl == ('CREATE INDEX CONCURRENTLY IF NOT EXISTS "a""b_x; DROP TABLE y_idx" '
                      'ON public."a""b" ("x; DROP TABLE y")')
    conn.execute(ix.ddl)
    assert conn.execute("SELECT count(*) FROM pg_class WHERE relname = 'a\"b'").fetchone() == (1,)


@pytest.mark.no_hypopg
def test_heuristic_mode_without_hypopg_is_labelled(conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    run(conn, ORDERS_BY_USER, _users())
    advice = suggest(conn)
    assert advice.method == "heuristic"
    assert any("hypopg" in h for h in advice.hints)
    assert any(i.table == "order" for i in advice.indexes)


def test_cli_json_output(db: str, conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    run(conn, ORDERS_BY_USER, _users())
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    ix = next(i for i in data["indexes"] if i["table"] == "order")
    for key in ("table", "columns", "ddl", "rollback", "queries"):
        assert key in ix
    assert ix["queries"][0]["calls"] == 10


def test_missing_pg_stat_statements_extension_names_the_fix(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("DROP EXTENSION pg_stat_statements")
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"pgtune: pg_stat_statements is preloaded but not installed in database '{conn.info.dbname}': "
        "run CREATE EXTENSION pg_stat_statements;")


def test_pg_stat_statements_not_preloaded_names_the_fix() -> None:
    with LocalCluster(settings={"shared_preload_libraries": "''"}) as cluster:
        result = CliRunner().invoke(cli, ["suggest", "--dsn", cluster.dsn])
        assert result.exit_code == 2
        assert "add it to shared_preload_libraries" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        check = CliRunner().invoke(cli, ["check", "--dsn", cluster.dsn])
        assert check.exit_code == 1
        assert "missing: pg_stat_statements is not loaded" in check.stdout


@pytest.mark.needs_hypopg
def test_views_matviews_ctes_and_output_names_get_their_indexes(conn: psycopg.Connection[Any]) -> None:
    from pgtune.capture import read_queries_file

    conn.execute('CREATE TABLE posts (id int PRIMARY KEY, "authorId" int, title text, "createdAt" timestamptz)')
    conn.execute("INSERT INTO posts SELECT g, g % 5000, 't' || g, now() - g * interval '1 minute' "
                 "FROM generate_series(1, 100000) g")
    conn.execute('CREATE VIEW posts_view AS SELECT id AS view_id, "authorId" AS author, title FROM posts')
    conn.execute('CREATE MATERIALIZED VIEW post_stats AS SELECT "authorId", count(*) AS n FROM posts GROUP BY 1')
    conn.execute("ANALYZE")
    cases = {
        "view": "SELECT * FROM posts_view WHERE author = 42",
        "cte": 'WITH c AS (SELECT * FROM posts) SELECT id FROM c WHERE "authorId" = 43',
        "order-by-position": 'SELECT id, "createdAt" FROM posts WHERE "authorId" = 44 ORDER BY 2 DESC LIMIT 5',
        "matview": 'SELECT n FROM post_stats WHERE "authorId" = 45',
    }
    for case, query in cases.items():
        advice = suggest(conn, read_queries_file(query))
        keys = {(ix.table, tuple(ix.columns)) for ix in advice.indexes}
        expected = {"view": ("posts", ("authorId",)), "cte": ("posts", ("authorId",)),
                    "order-by-position": ("posts", ("authorId", "createdAt")),
                    "matview": ("post_stats", ("authorId",))}[case]
        assert any(t == expected[0] and c[: len(expected[1])] == expected[1] for t, c in keys), (case, keys)
