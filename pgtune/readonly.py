"""Is a statement safe to execute for measurement? Only if it cannot change anything.

verify --analyze runs EXPLAIN (ANALYZE), which executes the statement. pgtune
executes only plain SELECTs: no INSERT/UPDATE/DELETE/MERGE anywhere in the tree
(data-modifying CTEs included), no SELECT ... FOR UPDATE/SHARE, no SELECT INTO,
and no call to a function that has a VOLATILE variant (nextval, random, user
functions that write). As a second guard the execution itself happens inside
BEGIN READ ONLY ... ROLLBACK (pgtune.explain).
"""

from __future__ import annotations

from typing import Any

import psycopg
from pglast import ast

from . import catalog_sql
from .analyze.bind import parse, walk

_WRITES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)


def why_not_read_only(conn: psycopg.Connection[Any], query: str) -> str | None:
    """None when ``query`` is safe to execute; else the reason it is not."""
    stmts = parse(query)
    if len(stmts) != 1:
        return "not a single statement"
    root = stmts[0].stmt
    if isinstance(root, ast.ExplainStmt):
        root = root.query
    if not isinstance(root, ast.SelectStmt):
        return f"writes ({type(root).__name__.removesuffix('Stmt').upper()})"
    names: set[str] = set()
    for node in walk(root):
        if isinstance(node, _WRITES):
            return "writes (data-modifying WITH)"
        if isinstance(node, ast.SelectStmt) and (node.lockingClause or node.intoClause):
            return "locks rows (FOR UPDATE/SHARE)" if node.lockingClause else "creates a table (SELECT INTO)"
        if isinstance(node, ast.FuncCall):
            names.add(node.funcname[-1].sval)
    if names:
        rows = conn.execute(catalog_sql.load("volatile_functions"), {"names": sorted(names)}).fetchall()
        if rows:
            return "calls a volatile function: " + ", ".join(r[0] for r in rows)
    return None
