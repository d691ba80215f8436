"""sqltext.walk: every node of a statement, depth first, at any depth (issue 28's CPU: nested generators were a
tenth of suggest's CPU at 5,000 statements, and a statement nested deeper than Python's recursion limit raised)."""

from __future__ import annotations

from typing import Any

import pglast
import psycopg
from pglast import ast

from pgtune.analyze.bind import bind
from pgtune.capture import read_catalog
from pgtune.sqltext import walk


def _reference(node: Any) -> list[Any]:
    """The nodes in the order the walk promises: the node, then each attribute's subtree in turn."""
    if isinstance(node, (list, tuple)):
        return [n for item in node for n in _reference(item)]
    if not isinstance(node, ast.Node):
        return []
    return [node, *(n for attr in node for n in _reference(getattr(node, attr)))]


def test_the_walk_is_depth_first_and_reaches_any_depth(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE ledger (id int PRIMARY KEY, amount int, note text)")
    query = ("SELECT id FROM ledger WHERE amount = $1 AND note IN (SELECT note FROM ledger l2 WHERE l2.id > $2) "
             "ORDER BY id LIMIT 5")
    root = pglast.parse_sql(query)[0].stmt
    assert [id(n) for n in walk(root)] == [id(n) for n in _reference(root)]
    inner = [n for n in walk(root, subqueries=False) if isinstance(n, ast.SelectStmt)]
    assert len(inner) == 1      # the subquery's own SELECT is not entered
    # 2,000 nested additions: one generator per level passed each node through 2,000 frames (RecursionError).
    deep = "SELECT id FROM ledger WHERE amount = $1" + " + 1" * 2000
    assert sum(isinstance(n, ast.A_Expr) for n in walk(pglast.parse_sql(deep)[0].stmt)) == 2001
    assert bind(deep, read_catalog(conn)).tables == {("public", "ledger")}


def test_printing_links_the_tree_as_pglast_does_and_prints_the_same(conn: psycopg.Connection[Any]) -> None:
    # printed() sets the ancestors pglast's printers read itself (pglast's own pass was half of printing's CPU).
    from pglast.stream import RawStream
    from pglast.visitors import Ancestor, populate_ancestors

    from pgtune.sqltext import _link, forget_ancestors, printed

    conn.execute("CREATE TABLE ledger (id int PRIMARY KEY, amount int, note text, at timestamptz)")
    query = ("WITH recent AS (SELECT id, amount FROM ledger WHERE at > now() - $1::interval) "
             "SELECT l.id, sum(r.amount) FILTER (WHERE r.amount > 0) FROM ledger l JOIN recent r USING (id) "
             "WHERE l.note IN ('a', 'b') OR l.note ILIKE $2 GROUP BY l.id ORDER BY 2 DESC NULLS LAST LIMIT $3")
    root = pglast.parse_sql(query)[0].stmt

    def chains() -> list[list[tuple[object, object]]]:
        out = []
        for n in walk(root):
            link: Ancestor | None = n.ancestors
            chain = []
            while link is not None:
                chain.append((link.node if isinstance(link.node, ast.Node) else type(link.node), link.member))
                link = link.parent
            out.append(chain)
        return out
    populate_ancestors((root,))
    theirs = chains()
    forget_ancestors(root)
    _link(root)
    assert chains() == theirs
    forget_ancestors(root)
    for node in [root, *walk(root)]:
        assert printed(node) == str(RawStream()(node))
        forget_ancestors(node)
    conn.execute(f"PREPARE printed_back AS {printed(root)}")      # what was printed still plans on the server
    assert conn.execute("EXPLAIN EXECUTE printed_back('1 day', 'x', 5)").fetchall()
    # The installed pglast prints as pgtune's links have it print: the fast printer is the one in use (r8).
    from pgtune.sqltext import _links_agree
    assert _links_agree()


def test_the_walk_reads_only_the_fields_that_can_hold_a_node(conn: psycopg.Connection[Any]) -> None:
    # A ColumnRef's location, a RangeVar's names and flags, a String's value: the walk read every field of every
    # node and pushed an iterator for each leaf (String, ParamRef); now it reads per node class only the fields
    # pglast types as a node or a list (sqltext._CHILDREN). Same nodes, same order (issue 28, s19).
    from pgtune.sqltext import _CHILDREN, unqualified_relations

    conn.execute("CREATE TABLE ledger (id int PRIMARY KEY, amount int, note text, at timestamptz)")
    queries = [
        "WITH recent AS MATERIALIZED (SELECT id, amount FROM ledger WHERE at > now() - $1::interval) "
        "SELECT l.id, sum(r.amount) FILTER (WHERE r.amount > 0), CASE WHEN l.note IS NULL THEN 'x' END "
        "FROM ledger l JOIN recent r USING (id) WHERE l.note IN ('a', 'b') OR l.note ILIKE $2 "
        "AND EXISTS (SELECT 1 FROM public.ledger z WHERE z.id = l.id) GROUP BY l.id ORDER BY 2 DESC NULLS LAST "
        "LIMIT $3 FOR UPDATE SKIP LOCKED",
        "UPDATE ledger SET amount = amount + 1 WHERE id = ANY($1::int[]) RETURNING *",
        "INSERT INTO ledger SELECT * FROM ledger WHERE at BETWEEN $1 AND $2 ON CONFLICT (id) DO NOTHING",
        "SELECT extract(epoch FROM at)::int, jsonb_build_object('k', note), x.v FROM ledger, "
        "LATERAL (VALUES (1), (2)) x(v) WHERE note COLLATE \"C\" < 'm' WINDOW w AS (PARTITION BY note)",
    ]
    seen: set[type] = set()
    for query in queries:
        root = pglast.parse_sql(query)[0].stmt
        assert [id(n) for n in walk(root)] == [id(n) for n in _reference(root)]
        for node in walk(root):
            seen.add(type(node))
            for attr in node:
                if attr not in _CHILDREN[type(node)]:
                    assert not isinstance(getattr(node, attr), (ast.Node, list, tuple)), (type(node), attr)
    assert {ast.String, ast.ParamRef, ast.Integer, ast.A_Star} <= seen
    assert _CHILDREN[ast.String] == _CHILDREN[ast.ParamRef] == _CHILDREN[ast.Integer] == ()
    assert _CHILDREN[ast.ColumnRef] == ("fields",)
    assert _CHILDREN[ast.RangeVar] == ("alias",)
    assert "location" not in _CHILDREN[ast.A_Expr] and "kind" not in _CHILDREN[ast.A_Expr]
    assert unqualified_relations(queries[0]) == {"ledger"}      # the CTE's name is no relation
    assert bind(queries[0], read_catalog(conn)).tables == {("public", "ledger")}
