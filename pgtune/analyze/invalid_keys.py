"""Can health build an INVALID index again as it is? Not a unique one whose table holds rows with the same key.

health --emit leaves such an index to the DBA (health.duplicate_keys); suggest then does not wait for it either:
the statements it would serve are priced and served as if it were absent (i37: Hoppscotch's unique
("userUid", "executedOn") failed on duplicates, and neither command gave its statements an index). The read
of the table is bounded in time (analyze.bounded).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from .. import catalog_sql
from ..capture import Index
from ..sqltext import ParseFailed, expression, printed
from .bounded import CHECK_TIMEOUT, Read, bounded

_OID = ("SELECT /* pgtune */ c.oid FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n "
        "ON n.oid = c.relnamespace WHERE n.nspname = %(schema)s AND c.relname = %(name)s")


def not_rebuilt(conn: psycopg.Connection[Any], index: Index, known: dict[tuple[str, str], str | None]) -> str | None:
    """Why health cannot build the INVALID ``index`` again as it is (its words for suggest); None: it can. ``known``:
    the answers so far, by (schema, name): the table is read once per index, not per candidate."""
    key = (index.schema, index.name)
    if key not in known:
        known[key] = _why(conn, index)
    return known[key]


def _why(conn: psycopg.Connection[Any], index: Index) -> str | None:
    row = conn.execute(_OID, {"schema": index.schema, "name": index.name}).fetchone()
    if row is None:
        return None         # gone meanwhile: nothing to wait for, nothing to say
    dup = has_duplicates(conn, index.schema, index.table, int(row[0]), unique=index.is_unique)
    if dup is False or (not index.is_unique and not isinstance(dup, str)):
        return None
    if dup is True:
        return "its table holds rows with the same key, so it cannot be built again as it is"
    if dup is None:
        return f"whether its table holds rows with the same key could not be read within {CHECK_TIMEOUT}"
    return f"its keys cannot be computed for every row of its table ({dup})"


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
