"""pgtune's own CPU in suggest (issue 28): work done once that the run used to repeat, and text written without
the pglast printer exactly as the printer writes it."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from typing import Any

import psycopg
import pytest
from pglast import ast, keywords
from pglast.enums import SortByDir, SortByNulls

from pgtune import ddl
from pgtune.ddl import IndexKey
from tests.helpers import shop_statements

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
    assert not hasattr(key, "_hash") and not hasattr(key, "__dict__")     # a slot, filled by the first hash
    assert hash(key) == hash(("userId", True, None, None))
    assert key._hash == hash(key)
    other = dataclasses.replace(key, descending=False)       # a new key: its own hash, none carried over
    assert hash(other) == hash(("userId", False, None, None)) and other != key
    assert key == IndexKey("userId", True) and {key: 1}[IndexKey("userId", True)] == 1
    assert "_hash" not in dataclasses.asdict(key)


@pytest.mark.needs_hypopg
def test_each_proposals_name_is_worked_out_once(conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from pgtune import api
    from pgtune.analyze import Options

    statements = shop_statements(conn)
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


@pytest.mark.needs_hypopg
def test_a_question_is_worked_out_once_for_its_prefetch_and_its_answer(conn: psycopg.Connection[Any],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Within one evaluation of a step, and one pass of the curve's credits, each statement's question (its
    cache key) is worked out once, for the plans asked at once and for the answer read after them."""
    from pgtune import api
    from pgtune.analyze import Options, curve, selection
    from pgtune.capture import Statement

    conn.execute("CREATE TABLE shop (id int PRIMARY KEY, status text, placed date, total numeric, ref int)")
    conn.execute("CREATE TABLE line (id int PRIMARY KEY, shop int, sku int, qty int)")
    conn.execute("INSERT INTO shop SELECT g, (ARRAY['open', 'paid', 'sent'])[1 + g % 3], date '2026-01-01' + g % 90, "
                 "g % 500, g % 700 FROM generate_series(1, 20000) g")
    conn.execute("INSERT INTO line SELECT g, g % 20000 + 1, g % 900, g % 7 FROM generate_series(1, 40000) g")
    conn.execute("VACUUM ANALYZE shop, line")
    texts = ["SELECT id, total FROM shop WHERE ref = 7 AND placed > '2026-02-01'",
             "SELECT count(*) FROM shop WHERE total BETWEEN 5 AND 9", "SELECT id FROM shop WHERE placed = '2026-01-05'",
             "SELECT l.qty FROM line l JOIN shop s ON s.id = l.shop WHERE l.sku = 5 AND s.ref = 3",
             "SELECT sum(qty) FROM line WHERE shop = 42"]
    statements = [Statement(query=q, queryid=n + 1, calls=10) for n, q in enumerate(texts)]
    seen: list[list[tuple[int, tuple[int, ...]]]] = []     # per evaluation and credits call: the questions made
    inside: list[bool] = []
    greedy_running: list[bool] = []
    steps: defaultdict[int, list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
    real_run = selection.Greedy.run

    def run(self: selection.Greedy, seeds: list[Any]) -> selection.Selection:
        greedy_running.append(True)
        try:
            return real_run(self, seeds)
        finally:
            greedy_running.pop()
    real_question, real_evaluate, real_credited = selection.Greedy._question, selection.Greedy._evaluate, curve.credited

    def question(self: selection.Greedy, pos: int, cands: Any) -> Any:
        cands = list(cands)
        if inside:
            seen[-1].append((pos, tuple(map(id, cands))))
        if greedy_running:      # the greedy steps: between two steps, no question twice (batched or not)
            steps[len(self.result.steps)].append((pos, tuple(map(id, cands))))
        return real_question(self, pos, cands)

    def within(real: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            seen.append([])
            inside.append(True)
            try:
                return real(*args, **kwargs)
            finally:
                inside.pop()
        return run
    monkeypatch.setattr(selection.Greedy, "_question", question)
    monkeypatch.setattr(selection.Greedy, "run", run)
    monkeypatch.setattr(selection.Greedy, "_evaluate", within(real_evaluate))
    monkeypatch.setattr(curve, "credited", within(real_credited))
    advice = api.suggest(conn, api.SuggestOptions(Options(min_rows=100), constraints=False),
                         statements=statements).indexes
    assert advice.indexes
    asked = [q for s in seen for q in s]
    assert len(asked) > 20
    assert all(len(s) == len(set(s)) for s in seen), [s for s in seen if len(s) != len(set(s))][:2]
    assert len(steps) > 1 and all(len(s) == len(set(s)) for s in steps.values()), steps
