"""The rows the workload's own statements wrote, per table, inside pg_stat_statements' window.

A table's counters (pg_stat_user_tables) count since their own reset, which
is often long before pg_stat_statements' window began (a bulk load, a restore,
a per-database pg_stat_statements_reset that leaves pg_stat_statements_info
alone). Charged as the workload's writes, such a load outweighs the saving of
an index the workload needs. pg_stat_statements' own INSERT/UPDATE/DELETE/
MERGE/COPY rows are in its window by construction; writes made by triggers
(pg_stat_statements.track = top) are not among them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from pglast import ast
from psycopg import sql
from psycopg.rows import dict_row

from .. import catalog_sql
from ..connect import lost
from ..sqltext import what_runs

MAX_WRITE_STATEMENTS = 1000     # most rows first: the rest write too little to matter


@dataclass(frozen=True)
class WriteStatement:
    """One writing statement: the table it names (as written: schema may be None) and the rows it wrote."""

    userid: int | None
    schema: str | None
    table: str
    rows: int


def target(query: str) -> tuple[str | None, str] | None:
    """(schema, table) an INSERT, UPDATE, DELETE, MERGE or COPY … FROM writes; None for anything else."""
    root = what_runs(query)
    if isinstance(root, ast.CopyStmt) and not root.is_from:
        return None
    if isinstance(root, (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt, ast.CopyStmt)):
        rel = root.relation
        if rel is not None and rel.relname:
            return rel.schemaname, rel.relname
    return None


def read_writes(conn: psycopg.Connection[Any], database: str | None = None,
                roles: tuple[str, ...] = ()) -> list[WriteStatement] | str:
    """The writing statements of pg_stat_statements; where they cannot be read, why (then nothing is known,
    and the caller says its upkeep comes from the tables' counters: F2 of the tryouts, a silent fallback).

    Without ``roles`` (the workload filter's), a superuser's writes beside the
    application's roles are left out, as its reads are: a person's one-off load
    is no upkeep the application pays (u4's F1 on formbricks).
    """
    schema = catalog_sql.extension_schema(conn, "pg_stat_statements")
    if schema is None:
        return "write_statements.sql not run: the pg_stat_statements extension is not installed in this database"
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.compose("write_statements",
                statements=sql.Identifier(schema, "pg_stat_statements")),
                {"database": database, "roles": list(roles) or None, "limit": MAX_WRITE_STATEMENTS})
            rows = cur.fetchall()
    except psycopg.Error as exc:
        if lost(conn):
            raise
        why = (str(exc).splitlines() or [type(exc).__name__])[0]
        password = conn.info.password
        return f"write_statements.sql failed: {why.replace(password, '***') if password else why}"
    out = []
    for r in rows:
        named = target(r["query"])
        if named is not None:
            out.append(WriteStatement(int(r["userid"]) if r["userid"] is not None else None, named[0], named[1],
                                      int(r["rows"])))
    return out


def supplied(query: str) -> tuple[tuple[str | None, str], set[str]] | None:
    """The table an INSERT or UPDATE writes and the columns it sets to a value the application sends.

    A parameter or a constant (cast or not) is the application's value: a
    client's clock, an ingested event's own timestamps; so is ``EXCLUDED.col``
    in ON CONFLICT DO UPDATE. ``now()`` or another column's value is the
    server's. A rule over two columns the application supplies refuses a write
    as soon as the client sends them out of order (q9: Langfuse's end_time).
    """
    root = what_runs(query)
    cols: set[str] = set()
    if isinstance(root, ast.InsertStmt) and root.relation is not None:
        names = [c.name for c in root.cols or ()]
        select = root.selectStmt
        rows: list[tuple[Any, ...]] = []
        if isinstance(select, ast.SelectStmt):
            rows = [tuple(v) for v in select.valuesLists or ()] or \
                [tuple(t.val for t in select.targetList or () if isinstance(t, ast.ResTarget))]
        for row in rows:
            cols |= {n for n, v in zip(names, row, strict=False) if n and _sent(v)}
        conflict = root.onConflictClause
        if conflict is not None:
            cols |= {t.name for t in conflict.targetList or () if t.name and _sent(t.val, excluded=True)}
    elif isinstance(root, ast.UpdateStmt) and root.relation is not None:
        cols = {t.name for t in root.targetList or () if isinstance(t, ast.ResTarget) and t.name and _sent(t.val)}
    else:
        return None
    return (root.relation.schemaname, root.relation.relname or ""), cols


def _sent(node: Any, excluded: bool = False) -> bool:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, (ast.ParamRef, ast.A_Const)):
        return True
    fields = node.fields if isinstance(node, ast.ColumnRef) else None
    return excluded and fields is not None and len(fields) == 2 and getattr(fields[0], "sval", None) == "excluded"


def read_supplied(conn: psycopg.Connection[Any]) -> dict[str, set[str]] | None:
    """Per table name, the columns the workload's INSERTs and UPDATEs set to values the application sends;
    None when pg_stat_statements cannot be read (then nothing is known of them)."""
    schema = catalog_sql.extension_schema(conn, "pg_stat_statements")
    if schema is None:
        return None
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            view = sql.Identifier(schema, "pg_stat_statements")
            cur.execute(catalog_sql.compose("write_statements", statements=view),
                        {"database": None, "roles": None, "limit": MAX_WRITE_STATEMENTS})
            rows = cur.fetchall()
    except psycopg.Error:
        if lost(conn):
            raise
        return None
    out: dict[str, set[str]] = {}
    for r in rows:
        try:
            found = supplied(r["query"])
        except ValueError:
            continue
        if found is not None:
            out.setdefault(found[0][1], set()).update(found[1])
    return out
