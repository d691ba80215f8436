"""pgtune's own CPU in suggest (issue 28): work done once that the run used to repeat, and text written without
the pglast printer exactly as the printer writes it."""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

import psycopg
import pytest
from pglast import ast, keywords
from pglast.enums import SortByDir, SortByNulls

from pgtune import ddl
from pgtune.ddl import IndexKey

# Names the printer must quote (case, space, quote, keyword, digit first, non-ASCII) and every keyword pglast knows.
ODD = ["x", "Mixed", "a b", 'a"b', '"', "it's", "1a", "é", "a$b", "a.b", "x\ny", "A_b", "_x"]
NAMES = ODD + sorted(set().union(*(v for v in vars(keywords).values() if isinstance(v, (set, frozenset)))))


def _printed(schema: str, table: str, name: str, keys: tuple[IndexKey, ...], concurrently: bool,
             include: tuple[str, ...]) -> str:
    def elem(column: str, descending: bool) -> ast.IndexElem:
        return ast.IndexElem(name=column, ordering=SortByDir.SORTBY_DESC if descending else SortByDir.SORTBY_DEFAULT,
                             nulls_ordering=SortByNulls.SORTBY_NULLS_DEFAULT)
    stmt = ast.IndexStmt(idxname=name, relation=ast.RangeVar(schemaname=schema, relname=table, inh=True,
                                                             relpersistence="p"),
                         accessMethod="btree", indexParams=[elem(k.column, k.descending) for k in keys],
                         indexIncludingParams=[elem(c, False) for c in include] or None,
                         concurrent=concurrently, if_not_exists=concurrently)
    return ddl._print(stmt)


def test_a_plain_btree_is_written_as_the_printer_writes_it_without_the_printer(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(NAMES) > 400
    expected = {(n, c, inc): _printed(n, n, n, (IndexKey(n), IndexKey("c", True), IndexKey(n, True)), c, inc)
                for n in NAMES for c in (True, False) for inc in ((), (n,), ("c", n))}

    def refused(node: ast.Node) -> str:
        raise AssertionError("the printer printed a plain b-tree")
    monkeypatch.setattr(ddl, "_print", refused)
    ddl.create_index.cache_clear()
    for (n, c, inc), text in expected.items():
        assert ddl.create_index(n, n, n, (IndexKey(n), IndexKey("c", True), IndexKey(n, True)), concurrently=c,
                                include=inc) == text


def test_a_plain_btrees_hypothetical_text_is_known_without_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    made = {n: ddl.create_index(n, "T", n, (IndexKey(n), IndexKey("b", True)), include=(n,)) for n in ODD}
    ddl._PLAIN_HYPOTHETICAL.clear()
    expected = {n: ddl.hypothetical(text) for n, text in made.items()}       # parsed and printed
    ddl.create_index.cache_clear()
    assert {n: ddl.create_index(n, "T", n, (IndexKey(n), IndexKey("b", True)), include=(n,))
            for n in ODD} == made

    def refused(text: str) -> None:
        raise AssertionError("a plain b-tree's CREATE INDEX parsed again")
    monkeypatch.setattr(ddl, "parse_sql", refused)
    assert {n: ddl.hypothetical(text) for n, text in made.items()} == expected
    assert expected["Mixed"] == 'CREATE INDEX "Mixed" ON "Mixed"."T" ("Mixed", b DESC) INCLUDE ("Mixed")'


def test_an_index_keys_hash_is_worked_out_once_and_is_the_fields() -> None:
    key = IndexKey("userId", True)
    assert "_hash" not in vars(key)
    assert hash(key) == hash(("userId", True, None, None))
    assert vars(key)["_hash"] == hash(key)
    other = dataclasses.replace(key, descending=False)       # a new key: its own hash, none carried over
    assert hash(other) == hash(("userId", False, None, None)) and other != key
    assert key == IndexKey("userId", True) and {key: 1}[IndexKey("userId", True)] == 1
    assert "_hash" not in dataclasses.asdict(key)


@pytest.mark.needs_hypopg
def test_each_proposals_name_is_worked_out_once(conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from pgtune import api
    from pgtune.analyze import Options
    from pgtune.capture import Statement

    conn.execute("CREATE TABLE shop (id int PRIMARY KEY, status text, placed date, total numeric, ref int)")
    conn.execute("INSERT INTO shop SELECT g, (ARRAY['open', 'paid', 'sent'])[1 + g % 3], date '2026-01-01' + g % 90, "
                 "g % 500, g % 700 FROM generate_series(1, 20000) g")
    conn.execute("VACUUM ANALYZE shop")
    texts = ["SELECT id, total FROM shop WHERE ref = 7 AND placed > '2026-02-01'",
             "SELECT count(*) FROM shop WHERE total BETWEEN 5 AND 9", "SELECT id FROM shop WHERE placed = '2026-01-05'"]
    statements = [Statement(query=q, queryid=n + 1, calls=10) for n, q in enumerate(texts)]
    made: Counter[str] = Counter()
    real = ddl.index_name

    def index_name(*args: Any, **kwargs: Any) -> str:
        name = real(*args, **kwargs)
        made[name] += 1
        return name
    monkeypatch.setattr(ddl, "index_name", index_name)
    advice = api.suggest(conn, api.SuggestOptions(Options(min_rows=100), constraints=False),
                         statements=statements).indexes
    assert len(advice.indexes) >= 2 and {ix.name for ix in advice.indexes} <= set(made)
    assert max(made.values()) == 1, made

