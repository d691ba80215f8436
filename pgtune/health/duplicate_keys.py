"""Before health --emit builds an INVALID unique index again: does its table hold rows with the same key?

A unique index is left INVALID by a build that met duplicate keys; dropped and built again while they are there,
the build fails again, and with it the migration's phase (p21: apply stopped on "could not create unique index",
the phase's other rebuilds never ran). The table's rows are grouped by the index's keys as the server prints
them, within a short statement_timeout: an index whose table holds duplicates, or could not be read in time, is
left to the DBA (the finding says to remove them first).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import errors, sql

from .. import catalog_sql

CHECK_TIMEOUT = "5s"     # the duplicate check's statement_timeout (and lock_timeout): a bounded read


def has_duplicates(conn: psycopg.Connection[Any], schema: str, table: str, oid: int) -> bool | None:
    """True: rows of ``schema.table`` share a key of index ``oid`` (NULLs apart, unless NULLS NOT DISTINCT);
    False: none do; None: not known (the read took longer than CHECK_TIMEOUT, or was refused)."""
    row = conn.execute(catalog_sql.load("unique_key_texts"), {"oid": oid}).fetchone()
    if row is None or not row[0]:
        return None
    # The server's own printing of its index's keys and predicate (pg_get_indexdef, pg_get_expr): SQL it wrote.
    keys = [sql.SQL(k) for k in row[0]]
    where = [sql.SQL("({})").format(sql.SQL(row[1]))] if row[1] else []
    if not row[2]:
        where += [sql.SQL("({}) IS NOT NULL").format(k) for k in keys]
    query = sql.SQL("SELECT /* pgtune */ 1 FROM {} WHERE {} GROUP BY {} HAVING count(*) > 1 LIMIT 1").format(
        sql.Identifier(schema, table), sql.SQL(" AND ").join(where) if where else sql.SQL("true"),
        sql.SQL(", ").join(keys))
    try:
        with conn.transaction():
            for setting in ("statement_timeout", "lock_timeout"):
                conn.execute("SELECT /* pgtune */ pg_catalog.set_config(%s, %s, true)", (setting, CHECK_TIMEOUT))
            return conn.execute(query).fetchone() is not None
    except (errors.QueryCanceled, errors.LockNotAvailable, errors.InsufficientPrivilege):
        return None
