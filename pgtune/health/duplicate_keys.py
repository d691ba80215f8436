"""Before health --emit builds an INVALID unique index again: does its table hold rows with the same key?

A unique index is left INVALID by a build that met duplicate keys; dropped and built again while they are there,
the build fails again, and with it the migration's phase (p21: apply stopped on "could not create unique index",
the phase's other rebuilds never ran). The table's rows are grouped by the index's keys as the server prints
them, within a short statement_timeout: an index whose table holds duplicates, or could not be read in time, is
left to the DBA (the finding says to remove them first). So is one whose keys or predicate the server fails to
compute for a row (``(id / x)`` where x is 0 left the index INVALID just as well): the build would fail on that row
again, and the read's error had stopped health --emit as a whole, its other fixes unwritten (r21). The check reads
a unique index's table once (read_keys) and its finding carries the answer to --emit (c38: each read it, twice).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import psycopg

from ..analyze import CHECK_TIMEOUT, has_duplicates
from .model import KeyRead


def read_keys(conn: psycopg.Connection[Any], r: dict[str, Any]) -> KeyRead:
    """Does the table of unique index ``r`` (sql/health_indexes.sql) hold rows with the same key: its one read."""
    return KeyRead(has_duplicates(conn, r["schema"], r["table"], int(r["oid"])))


def left_out(conn: psycopg.Connection[Any], schema: str, table: str, oid: int, *, unique: bool = True,
             known: KeyRead | None = None) -> str | None:
    """Why the INVALID index ``oid`` is not built again by health --emit; None: it may be. Not unique: only where
    its keys or predicate fail on a row (a read cut by the timeout leaves it built again, as before). ``known``: the
    check's read of a unique index (its finding's), used rather than reading the table again."""
    dup = known.duplicates if known is not None and unique else has_duplicates(conn, schema, table, oid, unique=unique)
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


def drop_offer(keys: KeyRead, r: dict[str, Any], declared: Collection[str] | None) -> tuple[str, bool]:
    """What the invalid-index finding on unique index ``r`` (sql/health_indexes.sql, its table read as ``keys``)
    ends with, and whether it offers the drop: while the table holds rows with the same key, a key the app never
    declared unique is better dropped than the rows deleted (i37: suggest then proposes the statements' plain index
    in its place)."""
    if keys.duplicates is not True:
        return ": remove the duplicate keys first, or the build fails again", False
    held = ("a constraint uses it" if r["is_protected"] else
            "the Prisma schema declares it (@unique)" if declared is not None and r["index"] in declared else None)
    if held is not None:
        return f": its table holds rows with the same key and {held}: remove those rows, then rebuild it", False
    checked = ("the Prisma schema does not declare it" if declared is not None else
               "check the application's schema does not declare it")
    return (": its table holds rows with the same key, so it cannot be rebuilt as it is; if the application does not "
            f"need that key unique (no constraint uses it; {checked}), drop it, and `pgtune suggest` proposes a plain "
            "index for the statements it was meant for; otherwise remove those rows, then rebuild it"), True
