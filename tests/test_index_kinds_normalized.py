"""Expression indexes for statements pg_stat_statements normalized (u's F14), on the real server.

The application writes ``to_tsvector('simple', body) @@ to_tsquery('simple', $1)``;
pg_stat_statements keeps ``to_tsvector($3, body) @@ to_tsquery($4, $1)``: the
configuration is gone, and an expression index serves a query only when its
expression is the query's exactly (``to_tsvector('english', body)`` does not
serve ``to_tsvector('simple', body)``). pgtune takes the constant the
application wrote from pg_qualstats' example of the statement (its text as
sent, constants and all) and says so in the reason; where no example holds it,
nothing is guessed. The same for ``meta->>'ref' = $1`` (``meta->>$2 = $1``
there): an expression b-tree on ``(meta ->> 'ref')``, costed by HypoPG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.analyze import written
from pgtune.apply import Applier
from pgtune.ddl import IndexMethod

from . import test_index_kinds
from .helpers import steady_state
from .test_index_kinds import workload

clone = test_index_kinds.clone          # the fixture: a second database with the same rows

DOCS = """
CREATE TABLE "Doc" (id int PRIMARY KEY, body text NOT NULL, meta jsonb NOT NULL);
INSERT INTO "Doc" SELECT g,
       (ARRAY['shipping delayed', 'great support', 'refund please', 'login broken', 'love it'])[1 + g % 5]
       || ' ' || md5(g::text),
       jsonb_build_object('country', 'c' || g % 40, 'ref', 'r' || g)
FROM generate_series(1, 60000) AS g;
ANALYZE "Doc";
"""
# The configuration the application writes is not the database's default (english): a guess from
# default_text_search_config would build an index its query never uses.
SEARCH = "SELECT id FROM \"Doc\" WHERE to_tsvector('simple', body) @@ to_tsquery('simple', %s) LIMIT 20"
BY_REF = "SELECT id FROM \"Doc\" WHERE meta->>'ref' = %s"


def _quiet(conn: psycopg.Connection[Any]) -> None:
    """pgtune's session as the CLI opens it (connect.force_session_settings): pg_qualstats off, so its own
    statements take no slot of pg_qualstats' full example table (each new one evicts one; the suite fills it)."""
    conn.execute("SET pg_qualstats.enabled = off")


def _default_config(conn: psycopg.Connection[Any], db: str) -> None:
    conn.execute(psycopg.sql.SQL("ALTER DATABASE {} SET default_text_search_config = 'pg_catalog.english'").format(
        psycopg.sql.Identifier(conn.info.dbname)))


def test_constants_pg_stat_statements_normalized_are_read_back_from_the_text_as_sent() -> None:
    normalized = 'SELECT id FROM "Doc" WHERE to_tsvector($3, body) @@ to_tsquery($4, $1) AND meta->>$5 = $2'
    sent = ("SELECT id FROM \"Doc\" WHERE to_tsvector('simple', body) @@ to_tsquery('simple', $1) "
            "AND meta->>'re''f' = $2")
    # Only the constants of an expression over a column (an index key's): to_tsquery's $4 is a value.
    assert written.key_constants(normalized, sent) == {"$3": "'simple'", "$5": "'re''f'"}
    assert written.key_constants(normalized, None) == {}
    assert written.key_constants(normalized, sent.replace("AND meta", "OR meta")) == {}     # not the same shape
    assert written.keyed(normalized, {"$3": "'simple'"}) == (
        "SELECT id FROM \"Doc\" WHERE to_tsvector('simple', body) @@ to_tsquery($4, $1) AND meta->>$5 = $2")
    assert written.value("'re''f'") == "re'f" and written.value("-2") == "-2"


@pytest.mark.needs_qualstats
def test_full_text_from_pg_stat_statements_gets_the_gin_its_query_uses_with_the_configuration_it_wrote(
        db: str, conn: psycopg.Connection[Any], clone: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(DOCS)
    clone.execute(DOCS)
    _default_config(conn, db)
    _quiet(conn)
    steady_state(conn)
    conn.execute("SELECT pg_qualstats_reset()")     # room for the example: the suite fills pg_qualstats.max
    workload(db, [(SEARCH, ("refund & a1b",)), (SEARCH, ("login",))])
    held = conn.execute("SELECT query FROM pg_stat_statements WHERE query LIKE '%to_tsvector%' "
                        "AND query NOT LIKE '%pg_stat_statements%'").fetchall()
    assert held == [('SELECT id FROM "Doc" WHERE to_tsvector($2, body) @@ to_tsquery($3, $1) LIMIT $4',)]
    result = api.suggest(conn, api.SuggestOptions(constraints=False), trial=clone,
                         emit=api.EmitOptions(directory=tmp_path / "m"))
    gin = [ix for ix in result.indexes.indexes if ix.method == IndexMethod.GIN]
    examples = conn.execute("SELECT e.queryid, e.query FROM pg_qualstats_example_queries() e "
                            "WHERE e.query LIKE '%to_tsvector%'").fetchall()
    assert [(ix.expressions, ix.costed_by) for ix in gin] == [
        (["to_tsvector('simple', body)"], "trial-clone")], (result.indexes.hints, examples)
    ix = gin[0]
    assert "'simple'" in ix.reason and "pg_qualstats" in ix.reason, ix.reason
    assert not any("english" in (e or "") for s in result.indexes.indexes for e in s.expressions)
    assert ix.cost_before is not None and ix.cost_after is not None and ix.cost_before / ix.cost_after > 5
    Applier(conn, tmp_path / "m").apply()
    # The application's own text, as it sends it, plans with the index; the default configuration's would not.
    rare = "c4ca4238a0b923820dcc509a6f75849b"        # md5('1'): one row's word
    assert ix.name in str(conn.execute("EXPLAIN " + SEARCH, (rare,)).fetchall())
    english = SEARCH.replace("'simple'", "'english'")
    assert ix.name not in str(conn.execute("EXPLAIN " + english, (rare,)).fetchall())


@pytest.mark.needs_qualstats
def test_full_text_without_the_text_as_sent_is_not_guessed(
        db: str, conn: psycopg.Connection[Any], clone: psycopg.Connection[Any]) -> None:
    conn.execute(DOCS)
    clone.execute(DOCS)
    _default_config(conn, db)
    steady_state(conn)
    with psycopg.connect(db, autocommit=True) as app:       # pg_qualstats sees none of it: no example
        app.execute("SET pg_qualstats.enabled = off")
        for word in ("refund", "login") * 3:
            app.execute(SEARCH, (word,)).fetchall()
    result = api.suggest(conn, api.SuggestOptions(constraints=False), trial=clone)
    assert [ix for ix in result.indexes.indexes if ix.method == IndexMethod.GIN] == []
    assert any("to_tsvector($2, body)" in h and "pg_qualstats" in h
               for h in result.indexes.hints), result.indexes.hints


@pytest.mark.needs_hypopg
@pytest.mark.needs_qualstats
def test_a_json_field_lookup_gets_an_expression_btree_its_query_uses(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(DOCS)
    _quiet(conn)
    steady_state(conn)
    conn.execute("SELECT pg_qualstats_reset()")     # room for the example: the suite fills pg_qualstats.max
    workload(db, [(BY_REF, (f"r{n}",)) for n in (7, 977, 4242)])
    held = conn.execute("SELECT query FROM pg_stat_statements WHERE query LIKE '%meta%' "
                        "AND query NOT LIKE '%pg_stat_statements%'").fetchall()
    assert held == [('SELECT id FROM "Doc" WHERE meta->>$2 = $1',)]
    result = api.suggest(conn, api.SuggestOptions(constraints=False), emit=api.EmitOptions(directory=tmp_path / "j"))
    found = [ix for ix in result.indexes.indexes if ix.table == "Doc"]
    assert [(ix.expressions, str(ix.method)) for ix in found] == [(["meta ->> 'ref'"], "btree")], \
        result.indexes.hints
    ix = found[0]
    assert "((meta ->> 'ref'))" in ix.ddl, ix.ddl
    # HypoPG's index has no statistics of the expression: the planner's default share of rows for "= $1"
    # (0.5%) stands in for one row, so the cut is the planner's lower bound (about 2.8x here).
    assert ix.cost_before is not None and ix.cost_after is not None and ix.cost_before / ix.cost_after > 2
    Applier(conn, tmp_path / "j").apply()
    assert ix.name in str(conn.execute("EXPLAIN " + BY_REF, ("r977",)).fetchall())


@pytest.mark.needs_qualstats
def test_prismas_one_argument_to_tsvector_gets_a_hint_not_an_index(db: str, conn: psycopg.Connection[Any]) -> None:
    """Prisma's fullTextSearchPostgres sends ``to_tsvector(concat_ws(' ', "body")) @@ to_tsquery($1)``: the
    one-argument to_tsvector reads default_text_search_config at run time, so no index can hold it."""
    conn.execute(DOCS)
    _quiet(conn)
    steady_state(conn)
    prisma = ('SELECT "public"."Doc"."id" FROM "public"."Doc" WHERE to_tsvector(concat_ws(\' \', '
              '"public"."Doc"."body")) @@ to_tsquery(%s)')
    workload(db, [(prisma, ("refund",)), (prisma, ("login",))])
    result = api.suggest(conn, api.SuggestOptions(constraints=False))
    assert [ix for ix in result.indexes.indexes if ix.method == IndexMethod.GIN] == []
    assert any("to_tsvector(concat_ws(' ', body))" in h and "to_tsvector with one argument" in h
               and "default_text_search_config" in h for h in result.indexes.hints), result.indexes.hints
