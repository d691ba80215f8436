"""What-if costing of partial and expression indexes on a table that is not the statement's first."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze.anchor import first_at
from pgtune.capture import read_queries_file
from pgtune.explain import explain

from .helpers import shop, suggest


def public(schema: str | None, name: str) -> tuple[str, str] | None:
    return (schema or "public", name)


ORDER = ("public", "order")


def test_comma_list_puts_the_table_first() -> None:
    assert first_at('SELECT 1 FROM users u, "order" o WHERE o."userId" = u.id', ORDER, public) == [
        'SELECT 1 FROM "order" AS o, users AS u WHERE o."userId" = u.id']


def test_inner_join_sides_are_swapped() -> None:
    assert first_at('SELECT 1 FROM users u JOIN "order" o ON o."userId" = u.id LEFT JOIN x ON x.id = o.id',
                    ORDER, public) == [
        'SELECT 1 FROM "order" AS o INNER JOIN users AS u ON o."userId" = u.id LEFT JOIN x ON x.id = o.id']


@pytest.mark.parametrize("query", [
    'SELECT 1 FROM "order" o, users u',                                  # already first
    'SELECT 1 FROM users u LEFT JOIN "order" o ON o."userId" = u.id',     # the nullable side of an outer join
    'SELECT 1 FROM users u JOIN "order" o USING (id)',                   # USING merges columns
    'SELECT 1 FROM users u WHERE EXISTS (SELECT 1 FROM "order" o WHERE o."userId" = u.id)',   # a subquery
    'SELECT * FROM users u, "order" o ORDER BY 1',                       # the star would reorder position 1
    'UPDATE "order" SET total = 0 FROM users u WHERE u.id = "order"."userId"',
])
def test_what_cannot_move_stays(query: str) -> None:
    assert first_at(query, ORDER, public) == []


def test_self_join_gives_one_statement_per_occurrence_not_first() -> None:
    got = first_at('SELECT 1 FROM "order" a JOIN "order" b ON b.id = a.id JOIN "order" c ON c.id = b.id',
                   ORDER, public)
    assert len(got) == 2 and got[0].startswith('SELECT 1 FROM "order" AS b') and "FROM \"order\" AS c" in got[1]


@pytest.mark.needs_hypopg
def test_partial_index_on_the_joined_table_is_costed_and_suggested(conn: psycopg.Connection[Any]) -> None:
    shop(conn)   # 'pending' is 0.2% of "order" rows
    query = ('SELECT u.email, o.total FROM users u JOIN "order" o ON o."userId" = u.id '
             "WHERE o.status = 'pending' ORDER BY o.\"createdAt\" LIMIT 20")
    conn.execute("SELECT hypopg_create_index('CREATE INDEX ON \"order\" (\"createdAt\") WHERE status = ''pending''')")
    [moved] = first_at(query, ORDER, public)
    # HypoPG's predicate points at range-table entry 1: it is seen only with "order" moved first.
    assert explain(conn, moved).indexes and explain(conn, moved).cost < explain(conn, query).cost / 10
    conn.execute("SELECT hypopg_reset()")

    advice = suggest(conn, read_queries_file(query + ";"))
    [ix] = [i for i in advice.indexes if i.table == "order" and i.origin == "workload"]
    assert ix.where == "status = 'pending'"
    assert advice.statements[0].cost_after is not None
    assert advice.statements[0].cost_after < (advice.statements[0].cost_before or 0) / 10
    conn.execute(ix.ddl)
    conn.execute('ANALYZE "order"')
    assert ix.name in explain(conn, query).indexes     # the real index serves the statement as written
