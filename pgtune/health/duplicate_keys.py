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

from ..analyze import CHECK_TIMEOUT, has_duplicates


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

