"""Tables whose statistics are older than the index pgtune built on them: the planner may not cost it right yet.

apply runs ANALYZE after each build; a table that was not analyzed since (a
failed ANALYZE, an index rebuilt by hand after it) is what verify reports as
stale, from pgtune's history of the builds and the tables' last ANALYZE.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from .. import catalog_sql
from ..history import History
from ..history import exists as history_exists
from ..plan import Migration, Name, roots


def analyzed_before_build(conn: psycopg.Connection[Any], m: Migration, schema: str = "pgtune") -> list[str]:
    """Tables last analyzed before pgtune built their newest index (from pgtune's history).

    None on a hot standby: its last-ANALYZE times are its own (it never analyzes), while its planner reads the
    primary's statistics, which it replays; every table read as stale there, told to run an ANALYZE a standby
    refuses (p16)."""
    if not history_exists(conn, schema) or _standby(conn):
        return []
    # A partition's index counts for the partitioned table of its recipe (its ANALYZE covers the partitions).
    table_of = {s.key: (top.schema, top.table) for p in m.phases if p.indexes
                for s in p.up if s.is_index for top in [roots(p.up)[Name(s.schema, s.name)]]}
    built: dict[tuple[str, str], Any] = {}
    for key, finished in History(conn, m.id, schema).built():
        if key in table_of:
            table = table_of[key]
            built[table] = max(finished, built.get(table, finished))
    if not built:
        return []
    keys = sorted(built)
    with catalog_sql.uncompiled(conn), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(catalog_sql.load("table_analyze_times"),
                    {"schemas": [s for s, _ in keys], "tables": [t for _, t in keys]})
        analyzed = {(r["schema"], r["table"]): r["analyzed"] for r in cur.fetchall()}
    return [f"{s}.{t}" for s, t in keys if analyzed.get((s, t)) is None or analyzed[(s, t)] < built[(s, t)]]


def _standby(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT /* pgtune */ pg_catalog.pg_is_in_recovery()").fetchone()
    return bool(row and row[0])
