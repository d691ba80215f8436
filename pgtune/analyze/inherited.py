"""Tables with children by old-style inheritance (INHERITS): said so, as pgtune proposes no index on a child.

A statement on such a parent reads every child table too (an Append over the
parent and each child), but a CREATE INDEX on the parent reaches none of them:
each child needs its own. pgtune's candidates are the tables a statement names,
so the children, where the rows are, were never considered, and the statement
was left as "no index pgtune could propose makes it cheaper" (c21). Rather
than guess one index per child (a child may hold a different slice, and each
alone is only its share of the cost), the advice names the parent, its children
holding rows, and what to do: index each child, or move to declarative
partitioning, where pgtune proposes the index on the partitioned table.
"""

from __future__ import annotations

from typing import Any

import psycopg
from pglast import ast
from psycopg.rows import dict_row

from .. import catalog_sql
from ..capture import Catalog, TableKey
from ..sqltext import ParseFailed, parse, walk
from .model import Advice

UNHELPED = "no index pgtune could propose"
SHOWN = 3      # children named in a hint; the rest counted


def review(conn: psycopg.Connection[Any], catalog: Catalog, advice: Advice) -> None:
    """A hint per inheritance parent the workload reads whose children hold rows, and a note on its statements."""
    parents = _parents(conn)
    if not parents:
        return
    said: dict[TableKey, None] = {}
    for row in advice.statements:
        path = tuple(row.search_path) if row.search_path else None
        read = [key for key in _read(row.query, catalog, path) if key in parents]
        for key in read:
            said[key] = None
        named = ", ".join(_name(key) for key in read)
        if read and (row.note or row.indexes) and not row.note.startswith(UNHELPED):
            # Helped by an index on the parent's own rows (or another table's): said so by its numbers, not
            # "no index makes it cheaper" (r21: 7,683 -> 4,412 with ev (k), and the note said none did).
            also = f"it also reads the inheritance children of {named}, which pgtune does not index (see the hint)"
            row.notes += [also] if also not in row.notes else []
        elif read:
            note = ("no index pgtune proposes makes it cheaper: it reads the inheritance children of "
                    + named + ", which pgtune does not index (see the hint)")
            # unhelped.mark's word on it ("no index pgtune could propose…") is this one now, in its hint too
            advice.hints[:] = [h[:-len(row.note)] + note if row.note and h.endswith(row.note) else h
                               for h in advice.hints]
            row.note = note
    for key in said:
        children, rows = parents[key]
        shown = ", ".join(children[:SHOWN]) + (f" and {len(children) - SHOWN} more" if len(children) > SHOWN else "")
        advice.hints.append(
            f"{_name(key)} has {len(children)} child table(s) by inheritance (INHERITS: {shown}; {rows:,.0f} rows): "
            f"a statement on it reads them too, but an index on {_name(key)} reaches none of them and pgtune "
            "proposes no index on an inheritance child; create the index each child needs on each one, or move to "
            "declarative partitioning (PARTITION BY), where pgtune proposes it on the partitioned table")


def _parents(conn: psycopg.Connection[Any]) -> dict[TableKey, tuple[list[str], float]]:
    with catalog_sql.uncompiled(conn), conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(catalog_sql.load("inheritance_children")).fetchall()
    return {(r["schema"], r["table"]): (list(r["children"]), float(r["rows"] or 0)) for r in rows}


def _read(query: str, catalog: Catalog, path: tuple[str, ...] | None) -> list[TableKey]:
    """The tables ``query`` reads with their children (not ``ONLY``), resolved as the server would."""
    try:
        stmts = parse(query)
    except ParseFailed:
        return []
    out: dict[TableKey, None] = {}
    for raw in stmts:
        for node in walk(raw.stmt):
            if isinstance(node, ast.RangeVar) and node.inh and node.relname:
                table = catalog.lookup(node.schemaname, node.relname, path)
                if table is not None:
                    out[table.key] = None
    return list(out)


def _name(key: TableKey) -> str:
    return key[1] if key[0] == "public" else f"{key[0]}.{key[1]}"
