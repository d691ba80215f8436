"""Partitioned tables at emit: their partitions, and the names their partitions' indexes get.

Read from the catalog when the migration is written (sql/partition_trees.sql,
sql/partition_index_states.sql); apply checks the list is still the same before it
builds anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from .. import catalog_sql, ddl
from .model import PartitionIndex

TableKey = tuple[str, str]


@dataclass(frozen=True)
class Partition:
    schema: str
    table: str
    partitioned: bool           # sub-partitioned: its index is ON ONLY too
    parent_schema: str
    parent_table: str


@dataclass
class AttachedIndex:
    """A partition of a partitioned index's table, with the index attached for it (None: it has none yet)."""

    table_schema: str
    table: str
    partitioned: bool
    parent_table_schema: str
    parent_table: str
    index_schema: str | None
    index: str | None
    parent_index_schema: str | None
    parent_index: str | None
    valid: bool
    definition: str | None


@dataclass
class PartitionMap:
    """The partitions of the partitioned tables a migration indexes, and every relation name already taken."""

    trees: dict[TableKey, list[Partition]] = field(default_factory=dict)
    taken: set[TableKey] = field(default_factory=set)

    def partitioned(self, schema: str, table: str) -> bool:
        return (schema, table) in self.trees

    def indexes_for(self, schema: str, table: str, index: str) -> list[PartitionIndex]:
        """The index each partition gets under ``index``, in recipe order (a parent before its partitions).

        Names are deterministic, unique and within NAMEDATALEN: the partition's
        name in place of the table's in the index name, as PostgreSQL names
        them (``events_2026_01_createdAt_idx``), with a number when taken.
        """
        names = {(schema, table): index}
        out: list[PartitionIndex] = []
        for p in self.trees.get((schema, table), []):
            parent = names[(p.parent_schema, p.parent_table)]
            name = self.free_name(p.schema, child_name(table, index, p.table))
            names[(p.schema, p.table)] = name
            # An index lives in its table's schema: the parent index in the parent table's.
            out.append(PartitionIndex(p.schema, p.table, name, p.parent_schema, parent, p.partitioned))
        return out

    def free_name(self, schema: str, name: str) -> str:
        """``name``, or ``name`` with a number, that no relation of ``schema`` holds; then taken."""
        candidate, n = name, 0
        while (schema, candidate) in self.taken:
            n += 1
            candidate = ddl.identifier([name, str(n)])
        self.taken.add((schema, candidate))
        return candidate


def child_name(table: str, index: str, partition: str) -> str:
    """The partition's index name: the table's name in ``index`` replaced by the partition's."""
    rest = index[len(table) + 1:] if index.startswith(table + "_") and len(index) > len(table) + 1 else index
    return ddl.identifier([partition, rest])


def read(conn: psycopg.Connection[Any], tables: list[TableKey]) -> PartitionMap:
    """The partition trees of those of ``tables`` that are partitioned, and the names taken in the database."""
    out = PartitionMap()
    wanted = sorted(set(tables))
    with conn.cursor(row_factory=dict_row) as cur:
        if wanted:
            cur.execute(catalog_sql.load("partition_trees"),
                        {"schemas": [s for s, _ in wanted], "tables": [t for _, t in wanted]})
            for r in cur.fetchall():
                out.trees.setdefault((r["root_schema"], r["root_table"]), []).append(Partition(
                    r["schema"], r["table"], bool(r["partitioned"]), r["parent_schema"], r["parent_table"]))
        cur.execute(catalog_sql.load("relation_names"))
        out.taken = {(r["schema"], r["name"]) for r in cur.fetchall()}
    for key, parts in out.trees.items():
        out.trees[key] = _recipe_order(key, parts)
    return out


def _recipe_order(root: TableKey, parts: list[Partition]) -> list[Partition]:
    """Depth first: a sub-partitioned partition, then its own partitions, then the next (by name)."""
    by_parent: dict[TableKey, list[Partition]] = {}
    for p in parts:
        by_parent.setdefault((p.parent_schema, p.parent_table), []).append(p)
    out: list[Partition] = []

    def walk(key: TableKey) -> None:
        for p in sorted(by_parent.get(key, []), key=lambda x: (x.schema, x.table)):
            out.append(p)
            walk((p.schema, p.table))

    walk(root)
    return out


def attached(conn: psycopg.Connection[Any], indexes: list[TableKey]) -> dict[TableKey, list[AttachedIndex]]:
    """For each partitioned index (schema, name): every partition of its table and the index attached for it."""
    if not indexes:
        return {}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(catalog_sql.load("partition_index_states"),
                    {"schemas": [s for s, _ in indexes], "names": [n for _, n in indexes]})
        rows = cur.fetchall()
    out: dict[TableKey, list[AttachedIndex]] = {}
    for r in rows:
        out.setdefault((r["root_schema"], r["root_name"]), []).append(AttachedIndex(
            r["table_schema"], r["table"], bool(r["partitioned"]), r["parent_table_schema"], r["parent_table"],
            r["index_schema"], r["index"], r["parent_index_schema"], r["parent_index"], bool(r["is_valid"]),
            r["definition"]))
    return out
