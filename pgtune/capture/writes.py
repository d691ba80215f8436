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

import re
from dataclasses import dataclass
from typing import Any

import psycopg
from pglast import ast
from psycopg import sql
from psycopg.rows import dict_row

from .. import catalog_sql
from ..connect import lost, mask, session_stops
from ..sqltext import walk, what_runs
from .catalog import Catalog, TableKey

MAX_WRITE_STATEMENTS = 1000     # most rows first: the rest write too little to matter


@dataclass(frozen=True)
class WriteStatement:
    """One writing statement: the table it names (as written: schema may be None) and the rows it wrote."""

    userid: int | None
    schema: str | None
    table: str
    rows: int
    queryid: int | None = None      # with its text, tells a schema per tenant's entry (capture.tenant_paths)
    query: str = ""


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


def read_unseen_writers(conn: psycopg.Connection[Any], catalog: Catalog) -> set[TableKey]:
    """The tables a user function that writes names (a trigger's, a function's nested writes that
    pg_stat_statements, tracking top-level statements only, does not list): their writes are not capped at the
    workload's own. A name in the text is enough; one wrongly found keeps the charge its counters give.

    Read once per catalog (kept on it): suggest --constraints asked twice, for
    the snapshot's upkeep cap and for the CHECK family's writes, each a read
    of every writing function's text (0.13 s on 2,000 tables x 2,000 functions).
    """
    if catalog.unseen_writers is None:
        catalog.unseen_writers = frozenset(_unseen_writers(conn, catalog))
    return set(catalog.unseen_writers)


def _unseen_writers(conn: psycopg.Connection[Any], catalog: Catalog) -> set[TableKey]:
    try:
        with conn.transaction(), conn.cursor() as cur:
            rows = cur.execute(catalog_sql.load("unseen_writers")).fetchall()
    except psycopg.Error as exc:
        if session_stops(conn, exc):
            raise
        return set()      # unreadable: the window cap stays as it was
    words: set[str] = set()
    for (source,) in rows:
        words.update(_WORD.findall(str(source or "")))
    return {key for key in catalog.tables if key[1].lower() in words} if words else set()


_WORD = re.compile(r"[a-z_][a-z0-9_$]*")


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
        return f"write_statements.sql failed: {mask(why, password) if password else why}"
    out = []
    for r in rows:
        named = target(r["query"])
        if named is not None:
            out.append(WriteStatement(int(r["userid"]) if r["userid"] is not None else None, named[0], named[1],
                                      int(r["rows"]), r.get("queryid"), r["query"]))
    return out


ALL = "*"      # an INSERT with no column list: every column may be the application's value
SERVER_CLOCK = {"now", "current_timestamp", "clock_timestamp", "statement_timestamp", "transaction_timestamp",
                "localtimestamp", "current_date", "current_time", "localtime"}


def supplied(query: str) -> tuple[tuple[str | None, str], set[str]] | None:
    """The table an INSERT or UPDATE writes and the columns it may set to a value the application sends.

    A value is the server's only when provably so: the server's clock (``now()``,
    ``CURRENT_TIMESTAMP``), DEFAULT, a column of the row itself, or in INSERT …
    SELECT an expression over the target table's own rows or generate_series.
    Anything else (a parameter, a constant,
    an expression over one, a value joined in from another table, from unnest($1)
    or a VALUES list, a multi-column SET) may be the client's: a client's clock,
    an ingested event's own timestamps, a staging table it filled (r11). A rule over two columns
    the application supplies refuses a write as soon as the client sends them out
    of order (q9: Langfuse's end_time). An INSERT with no column list, or of a
    SELECT the parse cannot read, counts as every column (ALL) (r10). None: not
    an INSERT or UPDATE pgtune can read (MERGE, a write under WITH): the caller
    takes the workload's writes as unknown.
    """
    root = what_runs(query)
    cols: set[str] = set()
    if isinstance(root, ast.InsertStmt) and root.relation is not None:
        rows = _rows(root.selectStmt)
        if root.selectStmt is not None and not rows:
            cols.add(ALL)
        for row, sources in rows:
            # With no column list, or a SELECT * of the client's rows, a value of the client's may be any column's.
            names = [c.name for c in root.cols or ()] or [ALL] * len(row)
            if sources is not None and any(_star(v) for v in row):
                names = [ALL] * len(row)
            cols |= {n for n, v in zip(names, row, strict=False)
                     if n and (_clients(v, sources, root.relation) if sources is not None else not _servers(v))}
        conflict = root.onConflictClause
        if conflict is not None:
            cols |= {t.name or ALL for t in conflict.targetList or () if not _servers(t.val, excluded_ok=False)}
    elif isinstance(root, ast.UpdateStmt) and root.relation is not None:
        cols = {t.name or ALL for t in root.targetList or () if isinstance(t, ast.ResTarget) and
                (isinstance(t.val, ast.MultiAssignRef) or root.fromClause or not _servers(t.val))}
    elif isinstance(root, ast.DeleteStmt) and root.relation is not None:
        pass        # sends no value
    else:
        return None
    return (root.relation.schemaname, root.relation.relname or ""), cols


def _rows(select: Any) -> list[tuple[tuple[Any, ...], tuple[Any, ...] | None]]:
    """An INSERT's rows of values, each with the FROM items a SELECT computes it from (None for a VALUES row;
    every arm of a UNION); [] unread."""
    if not isinstance(select, ast.SelectStmt):
        return []
    if select.op != 0:
        return _rows(select.larg) + _rows(select.rarg)
    if select.valuesLists:
        return [(tuple(v), None) for v in select.valuesLists]
    return [(tuple(t.val for t in select.targetList or () if isinstance(t, ast.ResTarget)),
             tuple(select.fromClause or ()))]


def _star(node: Any) -> bool:
    return isinstance(node, ast.ColumnRef) and any(isinstance(f, ast.A_Star) for f in node.fields or ())


def _clients(value: Any, sources: tuple[Any, ...], target: ast.RangeVar) -> bool:
    """May a SELECT's output column carry the client's value? A bare parameter or constant does, and so does a
    column unless every FROM item is the target table itself or a function that makes rows of its own (r11: a
    staging table, or unnest($1) in the bulk-insert idiom, holds what the client sent). An expression over the
    target's rows or generate_series is computed (pg_stat_statements shows its constants as $n too)."""
    bare = value
    while isinstance(bare, ast.TypeCast):
        bare = bare.arg
    if isinstance(bare, (ast.ParamRef, ast.A_Const)):
        return True
    return any(isinstance(n, ast.ColumnRef) for n in walk(value)) and not all(_own(i, target) for i in sources)


# Functions that turn a value the client sends into rows: unnest($1::timestamp[]) and the JSON ones carry what it
# sent. (pg_stat_statements shows every constant as $n, so generate_series(1, 10) reads generate_series($1, $2).)
ROWS_OF_A_VALUE = {"unnest", "json_to_recordset", "jsonb_to_recordset", "json_populate_recordset",
                   "jsonb_populate_recordset", "json_to_record", "jsonb_to_record", "json_populate_record",
                   "jsonb_populate_record", "json_array_elements", "jsonb_array_elements", "json_array_elements_text",
                   "jsonb_array_elements_text", "json_each", "jsonb_each", "json_each_text", "jsonb_each_text",
                   "string_to_table", "regexp_split_to_table", "xmltable", "jsonb_path_query", "json_table"}


def _own(item: Any, target: ast.RangeVar) -> bool:
    """A FROM item that holds nothing of the client's: the table written itself, or a function that makes rows of
    its own (generate_series), not of a value it is given (unnest($1))."""
    if isinstance(item, ast.RangeVar):
        return item.relname == target.relname and item.schemaname in (None, target.schemaname)
    if isinstance(item, ast.RangeFunction):
        calls = [n for n in walk(item.functions) if isinstance(n, ast.FuncCall)]
        return bool(calls) and not any(
            str(getattr(c.funcname[-1], "sval", "")).lower() in ROWS_OF_A_VALUE for c in calls if c.funcname)
    return False


def _servers(node: Any, excluded_ok: bool = True) -> bool:
    """Is ``node`` provably the server's value: its clock, DEFAULT, or a column of the row written?"""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, (ast.SetToDefault, ast.SQLValueFunction)):
        return True
    if isinstance(node, ast.FuncCall) and not node.args and node.funcname:
        return str(getattr(node.funcname[-1], "sval", "")).lower() in SERVER_CLOCK
    if isinstance(node, ast.ColumnRef):
        fields = node.fields or ()
        # EXCLUDED.col in ON CONFLICT DO UPDATE is the row the INSERT sent: the application's.
        return not (len(fields) == 2 and getattr(fields[0], "sval", None) == "excluded")
    return False


def read_supplied(conn: psycopg.Connection[Any], catalog: Catalog | None = None) -> dict[str, set[str]] | None:
    """Per table name, the columns the workload's INSERTs and UPDATEs set to values the application sends;
    None when pg_stat_statements cannot be read (then nothing is known of them).

    With ``catalog`` (r11): a partition's writes are its partitioned tables' too, a write through a view
    makes them unknown, and a table a user function names (a trigger's or a function's nested write, which
    pg_stat_statements with track = top does not list) may get any column from the client (ALL).
    """
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
            return None     # a write pgtune cannot read: what the application sends is unknown (r10)
        if found is None:
            return None
        (schema, name), cols = found
        out.setdefault(name, set()).update(cols)
        if catalog is None:
            continue
        if catalog.lookup(schema, name) is None and catalog.lookup_view(schema, name) is not None:
            return None     # written through a view: which table gets what is not read here
        table = catalog.lookup(schema, name)
        for up in catalog.ancestors(table.key) if table is not None else ():
            out.setdefault(up[1], set()).update(cols)
    if catalog is not None:
        for _, name in read_unseen_writers(conn, catalog):
            out.setdefault(name, set()).add(ALL)
    return out
