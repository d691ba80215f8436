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
