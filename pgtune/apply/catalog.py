"""The catalog as apply sees it: do the planned objects exist, are they valid, whose are they (OIDs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from .. import catalog_sql
from ..plan import Phase
from ..script import ObjectRef


@dataclass(frozen=True)
class IndexState:
    oid: int
    valid: bool
    definition: str
    bytes: int = 0


class ObjectStates:
    """Catalog probes for one connection (named SQL files under sql/)."""

    def __init__(self, conn: psycopg.Connection[Any], long_transaction_seconds: int = 60) -> None:
        self.conn = conn
        self.long_transaction_seconds = long_transaction_seconds

    def indexes(self, names: list[tuple[str, str]]) -> dict[tuple[str, str], IndexState]:
        if not names:
            return {}
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.load("index_states"),
                        {"schemas": [s for s, _ in names], "names": [n for _, n in names]})
            return {(r["schema"], r["name"]): IndexState(int(r["oid"]), bool(r["is_valid"]), r["definition"],
                                                         int(r["bytes"] or 0))
                    for r in cur.fetchall()}

    def constraints(self, names: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], tuple[int, bool]]:
        """(schema, table, name) -> (oid, validated)."""
        if not names:
            return {}
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.load("constraint_states"),
                        {"schemas": [n[0] for n in names], "tables": [n[1] for n in names],
                         "names": [n[2] for n in names]})
            return {(r["schema"], r["table"], r["name"]): (int(r["oid"]), bool(r["validated"]))
                    for r in cur.fetchall()}

    def not_null(self, phase: Phase) -> dict[tuple[str, str, str], bool]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.load("not_null_columns"),
                        {"schemas": [c.schema for c in phase.constraints],
                         "tables": [c.table for c in phase.constraints],
                         "columns": [c.columns[0] for c in phase.constraints]})
            return {(r["schema"], r["table"], r["column"]): bool(r["not_null"]) for r in cur.fetchall()}

    def column_not_null(self, obj: ObjectRef) -> bool:
        row = self.conn.execute(catalog_sql.load("not_null_columns"),
                                {"schemas": [obj.schema], "tables": [obj.table], "columns": [obj.name]}).fetchone()
        return bool(row and row[3])

    def reindex_leftovers(self, obj: ObjectRef) -> list[str]:
        """Names of the INVALID ``_ccnew`` copies an interrupted REINDEX CONCURRENTLY of ``obj`` left."""
        with self.conn.cursor() as cur:
            cur.execute(catalog_sql.load("reindex_leftovers"), {"schema": obj.schema, "name": obj.name})
            return [r[0] for r in cur.fetchall()]

    def long_transactions(self) -> list[str]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.load("long_transactions"), {"seconds": self.long_transaction_seconds})
            return [f"transaction pid {r['pid']} ({r['role']}) open for {r['seconds']}s: "
                    "concurrent index builds will wait for it to finish" for r in cur.fetchall()]
