"""Asking the data, within bounds: every query runs READ ONLY under a statement_timeout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql


class Unproven(Exception):
    """The data cannot prove a rule for this table: the reason says why."""


class TooSlow(Unproven):
    """The proof would take longer than the allowed time for this table."""


class Hidden(Unproven):
    """Rows the rule must hold for are out of this role's sight (row security, no SELECT privilege).

    A rule proven over the rows a policy lets pgtune's role see is no proof: the
    hidden rows may break it, so VALIDATE fails and the NOT VALID constraint
    already refuses their updates.
    """


class Prover:
    def __init__(self, conn: psycopg.Connection[Any], policed: Callable[[tuple[str, str]], bool], *,
                 timeout_ms: int = 10_000, max_scan_bytes: int = 1 << 30) -> None:
        """``policed``: whether row security filters this role's reads of a table, as the catalog read it
        (Catalog.policed, the one answer every reader of pgtune's consults)."""
        self.conn = conn
        self.policed = policed
        self.timeout_ms = timeout_ms
        self.max_scan_bytes = max_scan_bytes

    def _run(self, query: sql.Composable, params: tuple[Any, ...] = (), *,
             table: tuple[str, str] | None = None) -> list[tuple[Any, ...]]:
        """``query``'s rows, READ ONLY, bounded; ``table``: the one it reads, whose policies are checked first (u6:
        each proof on a FORCE ROW LEVEL SECURITY table left an ERROR in the server's log)."""
        if table is not None and self.policed(table):
            raise Hidden(f"not every row is visible to this role (row security is active for it on "
                         f"{table[0]}.{table[1]}, or it may not SELECT it): no proof")
        try:
            with self.conn.transaction(force_rollback=True):
                self.conn.execute("SET /* pgtune */ TRANSACTION READ ONLY")
                self.conn.execute("SET /* pgtune */ LOCAL standard_conforming_strings = on")
                self.conn.execute(sql.SQL("SET /* pgtune */ LOCAL statement_timeout = {}").format(
                    sql.Literal(self.timeout_ms)))
                # Off: a query that row security would filter fails instead of answering over part of the rows.
                self.conn.execute("SET /* pgtune */ LOCAL row_security = off")
                rows: list[tuple[Any, ...]] = self.conn.execute(sql.Composed([query]), params or None).fetchall()
                return rows
        except psycopg.errors.QueryCanceled:
            raise TooSlow(f"took longer than statement_timeout ({self.timeout_ms} ms)") from None
        except psycopg.errors.InsufficientPrivilege as exc:
            raise Hidden(f"not every row is visible to this role ({_first_line(exc)}): no proof") from None

    def check_size(self, table_bytes: int) -> None:
        if table_bytes > self.max_scan_bytes:
            raise TooSlow(f"table is {table_bytes / 1048576:,.0f} MB, over the {self.max_scan_bytes / 1048576:,.0f} MB "
                          "scan limit")

    def distinct_values(self, schema: str, table: str, column: str, limit: int) -> list[tuple[str, int]]:
        """Up to ``limit`` distinct non-NULL values with their counts, most common first."""
        rows = self._run(sql.SQL(
            "SELECT /* pgtune */ {col}::text, count(*) FROM {tab} WHERE {col} IS NOT NULL "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {lim}").format(
            col=sql.Identifier(column), tab=sql.Identifier(schema, table), lim=sql.Literal(limit)),
            table=(schema, table))
        return [(str(r[0]), int(r[1])) for r in rows]

    def bounds(self, schema: str, table: str, column: str) -> tuple[Any, Any]:
        """The column's least and greatest value in one scan ((None, None) when no row holds one)."""
        rows = self._run(sql.SQL("SELECT /* pgtune */ min({col}), max({col}) FROM {tab}").format(
            col=sql.Identifier(column), tab=sql.Identifier(schema, table)), table=(schema, table))
        return (rows[0][0], rows[0][1]) if rows else (None, None)

    def rows_holding(self, schema: str, table: str, columns: tuple[str, ...], enough: int) -> int:
        """Rows where every one of ``columns`` holds a value, counted up to ``enough`` (the scan stops there)."""
        held = sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(sql.Identifier(c)) for c in columns)
        rows = self._run(sql.SQL(
            "SELECT /* pgtune */ count(*) FROM (SELECT FROM {tab} WHERE {held} LIMIT {enough}) AS r").format(
            tab=sql.Identifier(schema, table), held=held, enough=sql.Literal(enough)), table=(schema, table))
        return int(rows[0][0]) if rows else 0

    def violations(self, schema: str, table: str, check: sql.Composable, columns: tuple[str, ...],
                   bound: int = 1000) -> tuple[int, list[str]]:
        """Rows where ``check`` is false (as a CHECK sees it: NULL passes), up to ``bound``, and examples.

        ``check`` is composed with psycopg.sql (``Rule.composed``): names and
        values read from the data reach the server only through its quoting.
        """
        cols = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns)
        rows = self._run(sql.SQL(
            "SELECT /* pgtune */ {cols} FROM {tab} WHERE NOT ({check}) LIMIT {bound}").format(
            cols=cols, tab=sql.Identifier(schema, table), check=check, bound=sql.Literal(bound)), table=(schema, table))
        return len(rows), [", ".join("NULL" if v is None else v for v in r) for r in rows[:3]]


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
