"""No hypothetical index on an expression that is not IMMUTABLE is sent to HypoPG (c25).

Ghostfolio-shaped: ``WHERE CAST("dataSource" AS text) = $1`` on an enum column. enum -> text goes through
enum_out, STABLE, so the server refuses any index on that expression; HypoPG's refusal ("functions in index
expression must be marked IMMUTABLE") was an ERROR line in the server's log at every run of suggest (3 a run),
where a DBA's log alerting trips. The candidate is still listed as rejected, with the same reason.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Options, immutable
from pgtune.analyze.candidates import Candidate
from pgtune.capture import Statement
from pgtune.ddl import IndexKey

from .helpers import logged_errors, suggest

SETUP = """
CREATE TYPE "DataSource" AS ENUM ('YAHOO', 'COINGECKO', 'MANUAL', 'RAPID_API');
CREATE TABLE "SymbolProfile" (id int PRIMARY KEY, "dataSource" "DataSource" NOT NULL, symbol text NOT NULL,
                              currency text);
INSERT INTO "SymbolProfile" SELECT g, (ARRAY['YAHOO','COINGECKO','MANUAL','RAPID_API'])[1 + g % 4]::"DataSource",
       'S' || g, 'USD' FROM generate_series(1, 20000) g;
ANALYZE "SymbolProfile";
"""
QUERIES = [
    'SELECT id FROM "SymbolProfile" WHERE CAST("dataSource" AS text) = $1 AND symbol = $2',
    'SELECT id FROM "SymbolProfile" WHERE lower(symbol) = $1',
]


@pytest.mark.needs_hypopg
def test_a_stable_cast_is_rejected_without_asking_hypopg(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SETUP)
    statements = [Statement(query=q, queryid=n + 1, calls=1000, total_ms=5000.0, mean_ms=5.0)
                  for n, q in enumerate(QUERIES)]
    with logged_errors(conn) as errors:
        advice = suggest(conn, statements, Options(min_rows=100))
    refused = [line for line in errors if "IMMUTABLE" in line]
    assert not refused, refused
    assert any("IMMUTABLE" in r.reason and any("dataSource" in k for k in r.keys) for r in advice.rejected), \
        advice.rejected
    assert not [r for r in advice.rejected if any("lower" in k for k in r.keys)], advice.rejected   # IMMUTABLE
    assert advice.method == "hypopg", advice.method



def test_the_server_tells_which_expressions_and_predicates_are_not_immutable(conn: psycopg.Connection[Any]) -> None:
    """Read from the server's own parse: an immutable I/O cast (int -> text) and an immutable predicate pass."""
    conn.execute(SETUP)
    table = ("public", "SymbolProfile")
    cands = [
        Candidate(table, (IndexKey("dataSource", expression='CAST("dataSource" AS text)'),), 1),
        Candidate(table, (IndexKey("symbol", expression="lower(symbol)"),), 1),
        Candidate(table, (IndexKey("id", expression="CAST(id AS text)"),), 1),
        Candidate(table, (IndexKey("symbol"),), 1, where="currency = 'USD'"),
        Candidate(table, (IndexKey("symbol"),), 1, where="CAST(\"dataSource\" AS text) = 'YAHOO'"),
        Candidate(table, (IndexKey("symbol"),), 1, where="id > length(CAST(now() AS text))"),
        Candidate(table, (IndexKey("symbol"),), 1),
    ]
    assert immutable.refusals(conn, cands) == {0: immutable.EXPRESSION, 4: immutable.PREDICATE,
                                               5: immutable.PREDICATE}
    assert conn.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'pgtune_immutable%'").fetchone() == (0,)


def test_heuristic_mode_proposes_no_index_the_server_refuses(conn: psycopg.Connection[Any]) -> None:
    """Without HypoPG (PostgreSQL 18 here, a managed server without it) pgtune proposed (symbol, (CAST("dataSource"
    AS text))): its CREATE INDEX failed at apply. The key is cut, the hint says why, and every proposal builds."""
    conn.execute(SETUP)
    statements = [Statement(query=q, queryid=n + 1, calls=1000, total_ms=5000.0, mean_ms=5.0)
                  for n, q in enumerate(QUERIES)]
    advice = suggest(conn, statements, Options(min_rows=100, use_hypopg=False))
    assert not [ix for ix in advice.indexes if "dataSource" in ix.ddl], [ix.ddl for ix in advice.indexes]
    assert any(ix.columns == ["symbol"] and ix.expressions == [None] for ix in advice.indexes), advice.indexes
    assert any('CAST("dataSource" AS text)' in h and "IMMUTABLE" in h for h in advice.hints), advice.hints
    for ix in advice.indexes:
        conn.execute(ix.ddl)        # each builds (the refused one failed: "must be marked IMMUTABLE")
