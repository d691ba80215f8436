"""The statistics' counting window (reset, its scale against the table counters) and a sample of real values."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from .. import catalog_sql
from ..connect import lost
from .catalog import TableKey


def reset_counters(conn: psycopg.Connection[Any]) -> None:
    """Start a new observation window: pg_stat_statements, pg_qualstats and this database's table counters.

    This backend's own pending counters are flushed first (PostgreSQL 15+
    publishes them up to a second late), so a bulk load just run here does not
    leak into the new window. pg_qualstats is reset too (when installed here):
    its table is bounded (pg_qualstats.max), and once full it records no new
    predicate, so the window's statements would lose their constants.
    """
    if conn.info.server_version >= 150000:
        conn.execute("SELECT /* pgtune */ pg_stat_force_next_flush()")
    conn.execute("SELECT /* pgtune */ pg_stat_statements_reset()")
    conn.execute("SELECT /* pgtune */ pg_stat_reset()")
    schema = catalog_sql.extension_schema(conn, "pg_qualstats")
    if schema is not None:
        conn.execute(sql.SQL("SELECT /* pgtune */ {}()").format(sql.Identifier(schema, "pg_qualstats_reset")))


def write_window_scale(conn: psycopg.Connection[Any]) -> float:
    """Factor that scales table write counts to pg_stat_statements' counting window.

    Both are cumulative since their own reset; comparing them raw would charge
    an index for a bulk load that happened long before the observed workload.
    """
    try:
        with conn.transaction():
            row = conn.execute(catalog_sql.load("workload_window")).fetchone()
    except psycopg.Error:
        return 1.0   # pg_stat_statements_info needs pg_stat_statements 1.9 (PostgreSQL 14)
    if not row or not row[1]:
        return 1.0
    return max(0.0, min(1.0, float(row[0]) / float(row[1])))


def sample_row(conn: psycopg.Connection[Any], table: TableKey, columns: list[str],
               timeout_ms: int = 2_000) -> dict[str, str] | None:
    """One real row's values of ``columns`` (as text), taken from a 1% TABLESAMPLE; None if none.

    Correlated columns ("userId" and "orgId") get values that occur together,
    which independent picks from pg_stats would not. Read only, bounded in time.
    """
    row = None
    # A small table's 1% of pages may hold no row: then any row will do.
    # REPEATABLE: the same data gives the same row, so the advice is the same from run to run.
    for sampling in (sql.SQL("TABLESAMPLE SYSTEM (1) REPEATABLE (1)"), sql.SQL("")):
        query = sql.SQL("SELECT /* pgtune */ {cols} FROM {tab} {sampling} WHERE {notnull} LIMIT 1").format(
            cols=sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns),
            tab=sql.Identifier(*table), sampling=sampling,
            notnull=sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(sql.Identifier(c)) for c in columns))
        try:
            with conn.transaction(force_rollback=True):
                conn.execute("SET /* pgtune */ TRANSACTION READ ONLY")
                conn.execute(sql.SQL("SET /* pgtune */ LOCAL statement_timeout = {}").format(
                    sql.Literal(timeout_ms)))
                row = conn.execute(query).fetchone()
        except psycopg.Error:
            if lost(conn):
                raise
            return None
        if row:
            break
    return dict(zip(columns, row, strict=True)) if row else None
