"""Before health --emit builds an INVALID unique index again: does its table hold rows with the same key?

A unique index is left INVALID by a build that met duplicate keys; dropped and built again while they are there,
the build fails again, and with it the migration's phase (p21: apply stopped on "could not create unique index",
the phase's other rebuilds never ran). The table's rows are grouped by the index's keys as the server prints
them, within a short statement_timeout: an index whose table holds duplicates, or could not be read in time, is
left to the DBA (the finding says to remove them first). So is one whose keys or predicate the server fails to
compute for a row (``(id / x)`` where x is 0 left the index INVALID just as well): the build would fail on that row
again, and the read's error had stopped health --emit as a whole, its other fixes unwritten (r21).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from .. import catalog_sql
from ..sqltext import ParseFailed, expression, printed
from .bounded import CHECK_TIMEOUT, Read, bounded


def left_out(conn: psycopg.Connection[Any], schema: str, table: str, oid: int, *, unique: bool = True) -> str | None:
    """Why the INVALID index ``oid`` is not built again by health --emit; None: it may be. Not unique: only where
    its keys or predicate fail on a row (a read cut by the timeout leaves it built again, as before)."""
    dup = has_duplicates(conn, schema, table, oid, unique=unique)
    if dup is False or (not unique and not isinstance(dup, str)):
        return None
    if dup is True:
        return ("its table holds rows with the same key: the build would fail on them again; remove them, then run "
                "health --emit again")
    if dup is None:
        return (f"whether its table holds rows with the same key could not be read (within {CHECK_TIMEOUT}): build "
                "it again by hand once there are none")
    return (f"its keys could not be computed for every row of its table ({dup}): the build would fail on such a row "
            "again; fix those rows, then run health --emit again")


def has_duplicates(conn: psycopg.Connection[Any], schema: str, table: str, oid: int, *,
                   unique: bool = True) -> bool | str | None:
    """True: rows of ``schema.table`` share a key of index ``oid`` (NULLs apart, unless NULLS NOT DISTINCT);
    False: none do; None: not known (the read took longer than CHECK_TIMEOUT, or was refused); a text: the server's
    error computing a row's keys or the index's predicate (division by zero, a cast that fails). ``unique`` False:
    the keys are only computed (False where they all are), and not at all for plain columns without a predicate."""
    row = conn.execute(catalog_sql.load("unique_key_texts"), {"oid": oid}).fetchone()
    if row is None or not row[0]:
        return None
    # The server's printing of its index's keys and predicate (pg_get_indexdef, pg_get_expr), each read as one
    # expression and printed again by pglast: text from the catalog reaches SQL only in that form (r21).
    try:
        keys = [sql.SQL(printed(expression(k))) for k in row[0]]
        where = [sql.SQL("({})").format(sql.SQL(printed(expression(row[1]))))] if row[1] else []
    except ParseFailed:
        return None
    if not unique and not (row[3] or row[1]):
        return False        # column keys, no predicate: no row can fail the build
    if not row[2] and unique:
        where += [sql.SQL("({}) IS NOT NULL").format(k) for k in keys]
    # Not unique: count() computes every key of every row the predicate keeps, as the build would.
    query = sql.SQL("SELECT /* pgtune */ 1 FROM {} WHERE {} GROUP BY {} HAVING count(*) > 1 LIMIT 1" if unique else
                    "SELECT /* pgtune */ {2} FROM {0} WHERE {1}").format(
        sql.Identifier(schema, table), sql.SQL(" AND ").join(where) if where else sql.SQL("true"),
        sql.SQL(", ").join(keys) if unique else sql.SQL(", ").join(sql.SQL("count({})").format(k) for k in keys))
    got = bounded(conn, query)
    return got.row is not None and unique if isinstance(got, Read) else got
