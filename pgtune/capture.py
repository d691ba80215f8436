"""Capture: the workload (pg_stat_statements) and a catalog snapshot, as plain data.

Everything downstream (analyze, plan, verify) works on these dataclasses, so
the analysis can be tested and re-run without touching the server again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from . import catalog_sql

TableKey = tuple[str, str]  # (schema, table)


@dataclass(frozen=True)
class Statement:
    """One normalized statement as pg_stat_statements aggregates it."""

    query: str
    queryid: int | None = None
    calls: int = 1
    total_ms: float = 0.0
    mean_ms: float = 0.0
    rows: int = 0


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[str, ...]
    column_types: tuple[str, ...] = ()
    reltuples: float = 0.0
    size_bytes: int = 0
    writes: int = 0

    @property
    def key(self) -> TableKey:
        return (self.schema, self.name)


@dataclass(frozen=True)
class Index:
    schema: str
    table: str
    name: str
    columns: tuple[str | None, ...]  # key columns in order; None where an expression stands
    descending: tuple[bool, ...] = ()
    method: str = "btree"
    is_unique: bool = False
    is_primary: bool = False
    is_valid: bool = True
    predicate: str | None = None
    definition: str = ""
    size_bytes: int = 0

    @property
    def table_key(self) -> TableKey:
        return (self.schema, self.table)


@dataclass(frozen=True)
class ForeignKey:
    schema: str
    table: str
    name: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    on_delete: str = "a"  # pg_constraint.confdeltype: a, r, c, n, d

    @property
    def table_key(self) -> TableKey:
        return (self.schema, self.table)


@dataclass(frozen=True)
class ColumnStats:
    n_distinct: float
    null_frac: float


@dataclass
class Catalog:
    """The parts of the catalog that index advice depends on."""

    tables: dict[TableKey, Table] = field(default_factory=dict)
    indexes: list[Index] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    column_stats: dict[tuple[str, str, str], ColumnStats] = field(default_factory=dict)
    search_path: tuple[str, ...] = ("public",)

    def indexes_on(self, key: TableKey) -> list[Index]:
        return [i for i in self.indexes if i.table_key == key]

    def lookup(self, schema: str | None, name: str) -> Table | None:
        """Resolve a table reference the way the server would, through search_path."""
        if schema is not None:
            return self.tables.get((schema, name))
        for s in self.search_path:
            t = self.tables.get((s, name))
            if t is not None:
                return t
        return None

    def distinct_values(self, key: TableKey, column: str) -> float:
        """Estimated number of distinct values (pg_stats' negative n_distinct is a fraction of rows)."""
        st = self.column_stats.get((key[0], key[1], column))
        if st is None:
            return 0.0
        if st.n_distinct >= 0:
            return st.n_distinct
        table = self.tables.get(key)
        return -st.n_distinct * (table.reltuples if table else 0.0)


def read_workload(conn: psycopg.Connection[Any], limit: int = 100) -> list[Statement]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(catalog_sql.load("workload_statements"), {"limit": limit})
        return [
            Statement(query=r["query"], queryid=r["queryid"], calls=r["calls"],
                      total_ms=r["total_ms"], mean_ms=r["mean_ms"], rows=r["rows"])
            for r in cur.fetchall()
        ]


def read_catalog(conn: psycopg.Connection[Any]) -> Catalog:
    cat = Catalog()
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("/* pgtune */ SELECT current_schemas(false) AS path")
        row = cur.fetchone()
        cat.search_path = tuple(row["path"]) if row else ("public",)
        cur.execute(catalog_sql.load("tables"))
        for r in cur.fetchall():
            t = Table(schema=r["schema"], name=r["table"], columns=tuple(r["columns"]),
                      column_types=tuple(r["column_types"]), reltuples=r["reltuples"],
                      size_bytes=r["size_bytes"], writes=r["writes"])
            cat.tables[t.key] = t
        cur.execute(catalog_sql.load("indexes"))
        for r in cur.fetchall():
            keys = r["key_count"]
            cat.indexes.append(Index(
                schema=r["schema"], table=r["table"], name=r["name"],
                columns=tuple(r["columns"][:keys]), descending=tuple(r["descending"][:keys]),
                method=r["method"], is_unique=r["is_unique"], is_primary=r["is_primary"],
                is_valid=r["is_valid"], predicate=r["predicate"], definition=r["definition"],
                size_bytes=r["size_bytes"]))
        cur.execute(catalog_sql.load("foreign_keys"))
        for r in cur.fetchall():
            cat.foreign_keys.append(ForeignKey(
                schema=r["schema"], table=r["table"], name=r["name"], columns=tuple(r["columns"]),
                ref_schema=r["ref_schema"], ref_table=r["ref_table"], on_delete=r["on_delete"]))
        cur.execute(catalog_sql.load("column_stats"))
        for r in cur.fetchall():
            cat.column_stats[(r["schema"], r["table"], r["column"])] = ColumnStats(
                n_distinct=float(r["n_distinct"] or 0), null_frac=float(r["null_frac"] or 0))
    return cat
