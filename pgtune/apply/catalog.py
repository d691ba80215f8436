"""The catalog as apply sees it: do the planned objects exist, are they valid, whose are they (OIDs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from .. import catalog_sql
from ..plan import Name, partitions
from ..plan.partitions import AttachedIndex


@dataclass(frozen=True)
class IndexState:
    oid: int
    valid: bool
    definition: str
    bytes: int = 0
    partitioned: bool = False          # relkind I: an index of a partitioned table
    parent: Name | None = None         # the partitioned index it is attached to


@dataclass(frozen=True)
class ConstraintState:
    oid: int
    validated: bool


class ObjectStates:
    """Catalog probes for one connection (named SQL files under sql/)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def indexes(self, names: list[tuple[str, str]]) -> dict[tuple[str, str], IndexState]:
        if not names:
            return {}
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.load("index_states"),
                        {"schemas": [s for s, _ in names], "names": [n for _, n in names]})
            return {(r["schema"], r["name"]): IndexState(
                int(r["oid"]), bool(r["is_valid"]), r["definition"], int(r["bytes"] or 0), bool(r["partitioned"]),
                Name(r["parent_schema"], r["parent_name"]) if r["parent_name"] is not None else None)
                for r in cur.fetchall()}

    def index(self, schema: str, name: str) -> IndexState | None:
        return self.indexes([(schema, name)]).get((schema, name))

    def constraints(self, names: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], ConstraintState]:
        if not names:
            return {}
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.load("constraint_states"),
                        {"schemas": [n[0] for n in names], "tables": [n[1] for n in names],
                         "names": [n[2] for n in names]})
            return {(r["schema"], r["table"], r["name"]): ConstraintState(int(r["oid"]), bool(r["validated"]))
                    for r in cur.fetchall()}

    def constraint(self, schema: str, table: str, name: str) -> ConstraintState | None:
        return self.constraints([(schema, table, name)]).get((schema, table, name))

    def not_null(self, columns: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], bool]:
        """(schema, table, column) -> attnotnull."""
        if not columns:
            return {}
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.load("not_null_columns"),
                        {"schemas": [c[0] for c in columns], "tables": [c[1] for c in columns],
                         "columns": [c[2] for c in columns]})
            return {(r["schema"], r["table"], r["column"]): bool(r["not_null"]) for r in cur.fetchall()}

    def column_not_null(self, schema: str, table: str, column: str) -> bool:
        return self.not_null([(schema, table, column)]).get((schema, table, column), False)

    def reindex_leftovers(self, schema: str, name: str) -> list[str]:
        """Names of the INVALID ``_ccnew`` copies an interrupted REINDEX CONCURRENTLY of the index left."""
        with self.conn.cursor() as cur:
            cur.execute(catalog_sql.load("reindex_leftovers"), {"schema": schema, "name": name})
            return [r[0] for r in cur.fetchall()]

    def partitions(self, schema: str, table: str) -> set[Name]:
        """The direct partitions of a partitioned table now."""
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.load("partition_trees"), {"schemas": [schema], "tables": [table]})
            return {Name(r["schema"], r["table"]) for r in cur.fetchall()
                    if (r["parent_schema"], r["parent_table"]) == (schema, table)}

    def attached(self, index: Name) -> list[AttachedIndex]:
        """Every partition of a partitioned index's table, with the index attached for it (None: none yet)."""
        return partitions.attached(self.conn, [(index.schema, index.name)]).get((index.schema, index.name), [])

    def indexed_under(self, parent: Name, schema: str, table: str) -> Name | None:
        """The index of partition ``schema.table`` attached to ``parent``, if it has one."""
        for a in self.attached(parent):
            if (a.table_schema, a.table) == (schema, table) and a.index is not None and a.index_schema is not None \
                    and a.parent_index == parent.name and a.parent_index_schema == parent.schema:
                return Name(a.index_schema, a.index)
        return None

    def long_transactions(self, seconds: int) -> list[str]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.load("long_transactions"), {"seconds": seconds})
            return [f"transaction pid {r['pid']} ({r['role']}) open for {r['seconds']}s: "
                    "concurrent index builds will wait for it to finish" for r in cur.fetchall()]
