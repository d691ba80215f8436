"""Before health --emit validates a constraint left NOT VALID: do rows of its table break it?

A CHECK, NOT NULL or foreign key added NOT VALID holds the rows written after it only; rows from before may break it
(a NOT NULL's column NULL in them, a key whose parent row is gone), and its VALIDATE then fails at apply ("check
constraint … is violated by some row", "violates foreign key constraint"),
stopping the migration's phase (c23). Those rows are counted first, within a short statement_timeout as
health/duplicate_keys.py reads: a constraint some rows break is left to the DBA, the note says how many. One whose
rows could not be counted in time is validated as before: VALIDATE is the same check, and it fails changing nothing;
one whose rule the server fails to compute for a row is left out with the server's reason.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from .. import catalog_sql
from ..sqltext import ParseFailed, expression, printed
from .bounded import Read, bounded


def left_out(conn: psycopg.Connection[Any], schema: str, table: str, name: str) -> str | None:
    """Why health --emit does not VALIDATE constraint ``name`` of ``schema.table``; None: it may."""
    row = conn.execute(catalog_sql.load("not_valid_rule"), {"schema": schema, "table": table, "name": name}
                       ).fetchone()
    if row is None:
        return None         # gone meanwhile
    column, rule, fk_columns = row[0], row[1], row[2]
    if column is not None:
        broken: sql.Composable = sql.SQL("{} IS NULL").format(sql.Identifier(column))
        what = (f"holds NULL in {column}", f"hold NULL in {column}")   # said of one row, of several
    elif rule is not None:
        # The server's own printing of its constraint's rule (pg_get_expr), read as one expression and printed by
        # pglast, as every text pgtune sends. A CHECK a row's NULL leaves unknown holds it: only a false rule breaks it.
        try:
            printed_rule = printed(expression(rule))
        except ParseFailed:
            return None     # not known: the VALIDATE is emitted as before
        broken, what = sql.SQL("({}) IS FALSE").format(sql.SQL(printed_rule)), ("breaks it", "break it")
    elif fk_columns:
        full = row[8] and len(fk_columns) > 1
        what = (f"names a {row[4]} row that does not exist" + (" or sets only part of the key (MATCH FULL)" if full
                                                                 else ""),
                f"name a {row[4]} row that does not exist" + (" or set only part of the key (MATCH FULL)" if full
                                                                else ""))
        broken = _orphans(row)
    else:
        return None
    # A partitioned table's rows are its partitions'; a plain table's rule holds for its own (a CHECK for its
    # inheritance children too, which inherit it).
    only = sql.SQL("" if row[6] or not fk_columns else "ONLY ")
    found = _count(conn, sql.SQL("SELECT /* pgtune */ count(*) FROM {}{} AS c WHERE {}").format(
        only, sql.Identifier(schema, table), broken))
    if isinstance(found, str):
        return f"its rule could not be computed for every row of {table} ({found}): its VALIDATE would fail too"
    if not found:
        return None
    one = found == 1
    return (f"{found:,} row{'' if one else 's'} of {table} {what[0] if one else what[1]}: its VALIDATE would fail on "
            f"{'it; fix it' if one else 'them; fix them'}, then run health --emit again")


def _orphans(row: Any) -> sql.Composable:
    """A foreign key's rows whose key (every column set: MATCH SIMPLE skips a row with a NULL) has no parent row;
    MATCH FULL's rows whose key is NULL in some columns only, too."""
    columns, parent_schema, parent_table, parent_columns, parent_partitioned = row[2], row[3], row[4], row[5], row[7]
    set_ = sql.SQL(" AND ").join(sql.SQL("c.{} IS NOT NULL").format(sql.Identifier(c)) for c in columns)
    match = sql.SQL(" AND ").join(sql.SQL("p.{} = c.{}").format(sql.Identifier(pc), sql.Identifier(c))
                                  for c, pc in zip(columns, parent_columns, strict=True))
    orphan = sql.SQL("{} AND NOT EXISTS (SELECT FROM {}{} AS p WHERE {})").format(
        set_, sql.SQL("" if parent_partitioned else "ONLY "), sql.Identifier(parent_schema, parent_table), match)
    if not row[8] or len(columns) < 2:
        return orphan
    # MATCH FULL: a key NULL in some columns and set in others breaks it as well (r22: VALIDATE failed on it).
    return sql.SQL("({}) OR pg_catalog.num_nulls({}) BETWEEN 1 AND {}").format(
        orphan, sql.SQL(", ").join(sql.SQL("c.{}").format(sql.Identifier(c)) for c in columns),
        sql.Literal(len(columns) - 1))


def _count(conn: psycopg.Connection[Any], query: sql.Composed) -> int | str | None:
    """The count ``query`` reads, within CHECK_TIMEOUT; None when it took longer or was refused; the server's error
    computing the rule for a row (division by zero, a cast that fails)."""
    got = bounded(conn, query)
    if not isinstance(got, Read):
        return got
    return int(got.row[0]) if got.row else None
