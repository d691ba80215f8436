"""Partitioned indexes as health sees them: judged once, at the parent, never through an attached child.

A partitioned index (relkind I) holds no data: each partition has its own
index attached to it (pg_inherits between indexes), which PostgreSQL refuses
to drop or detach alone. So a duplicate, overlapping or unused partitioned
index is one finding on the parent, its usage the sum over its leaves, and its
fix names the parent only. An attached child is never a finding of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import ddl
from ..capture import Catalog
from .model import CheckId, Finding, Severity

IndexKey = tuple[str, str]    # (schema, index)


def attached(r: dict[str, Any]) -> bool:
    """Is this index a partition's index attached to a partitioned index (judged with its parent)?"""
    return r.get("parent_index") is not None


def kind(r: dict[str, Any]) -> str:
    return "partitioned index" if r["partitioned"] else "index"


def shape(r: dict[str, Any]) -> tuple[Any, ...]:
    """What an index on a partition must share with the partitioned index to be attached to it."""
    n = r["key_count"]
    return (r["method"], tuple(r["columns"]), n, tuple(r["opclasses"]), tuple(r["collations"]), tuple(r["options"]),
            r["expressions"], r["predicate"], r["is_unique"])


@dataclass
class Tree:
    """The rows of sql/health_indexes.sql, with each partitioned index's attached children."""

    rows: dict[IndexKey, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Iterable[dict[str, Any]]) -> Tree:
        return cls({(r["schema"], r["index"]): r for r in rows})

    def children(self, key: IndexKey) -> list[dict[str, Any]]:
        r = self.rows.get(key)
        if r is None or not r["partitioned"]:
            return []
        return [self.rows[(s, i)] for s, _t, i in r["attached"] if (s, i) in self.rows]

    def leaves(self, key: IndexKey) -> list[dict[str, Any]]:
        """The indexes that hold data under ``key``: itself, or its attached leaves (sub-partitions followed)."""
        r = self.rows.get(key)
        if r is None:
            return []
        if not r["partitioned"]:
            return [r]
        return [leaf for child in self.children(key) for leaf in self.leaves((child["schema"], child["index"]))]

    def partitions(self, key: IndexKey) -> list[list[str]]:
        """[schema, table, index] of every leaf index under ``key`` (for a finding's evidence)."""
        return [[r["schema"], r["table"], r["index"]] for r in self.leaves(key) if r is not self.rows.get(key)]

    def size(self, r: dict[str, Any]) -> int:
        """An index's size; a partitioned one's, the sum over the partitions' indexes under it."""
        return sum(int(leaf["index_bytes"]) for leaf in self.leaves((r["schema"], r["index"])))

    def evidence(self, r: dict[str, Any]) -> dict[str, Any]:
        """What a finding on a partitioned index adds: the partitions' indexes that go with it."""
        if not r["partitioned"]:
            return {}
        return {"partitioned": True, "partitions": self.partitions((r["schema"], r["index"]))}

    def missing(self, key: IndexKey) -> list[tuple[IndexKey, tuple[str, str]]]:
        """(the partitioned index, (schema, partition)) for each partition with no index attached, at any depth."""
        r = self.rows.get(key)
        if r is None or not r["partitioned"]:
            return []
        out = [(key, (s, t)) for s, t, _partitioned in r["unattached"]]
        for child in self.children(key):
            out += self.missing((child["schema"], child["index"]))
        return out

    def twin(self, r: dict[str, Any], schema: str, table: str) -> dict[str, Any] | None:
        """A valid index on ``table`` that no partitioned index holds and has ``r``'s shape: attach it, build none."""
        for other in self.rows.values():
            if (other["schema"], other["table"]) == (schema, table) and other["is_valid"] and not attached(other) \
                    and not other["partitioned"] and shape(other) == shape(r):
                return other
        return None

    def invalid_children(self, key: IndexKey) -> list[dict[str, Any]]:
        """Attached partitioned children (sub-partitioned partitions) that are invalid themselves."""
        return [c for c in self.children(key) if c["partitioned"] and not c["is_valid"]]


def build_under(catalog: Catalog, stmt: str, schema: str, table: str, name: str,
                name_for: Callable[[str, str], str]) -> list[str]:
    """Build index ``name`` on partitioned ``table`` without blocking writes (the PostgreSQL docs' recipe).

    ``CREATE INDEX … ON ONLY`` the table (invalid, builds nothing), then on each
    partition ``CREATE INDEX CONCURRENTLY`` (a sub-partitioned partition: the
    same recipe again) and ``ALTER INDEX … ATTACH PARTITION``; the parent
    becomes valid when the last partition's index is attached. ``name_for``
    (schema, partition) names each partition's index.
    """
    out = [ddl.index_on(stmt, schema, table, name, only=True)]
    return out + attach_all(catalog, stmt, schema, name, catalog.tables[(schema, table)].partitions, name_for)


def attach_all(catalog: Catalog, stmt: str, parent_schema: str, parent: str, partitions: Iterable[tuple[str, str]],
               name_for: Callable[[str, str], str]) -> list[str]:
    """For each partition: build its index (CONCURRENTLY, or the recipe when it is partitioned) and attach it."""
    out = []
    for part_schema, part in partitions:
        child = name_for(part_schema, part)
        table = catalog.tables.get((part_schema, part))
        if table is not None and table.partitioned:
            out += build_under(catalog, stmt, part_schema, part, child, name_for)
        else:
            out.append(ddl.index_on(stmt, part_schema, part, child))
        out.append(ddl.attach_index(parent_schema, parent, part_schema, child))
    return out


def invalid(tree: Tree, catalog: Catalog, r: dict[str, Any], drop: str) -> Finding:
    """An ``ON ONLY`` partitioned index some partitions have no index attached to: finish it (attach or build).

    ``drop`` is the other way out, named in the evidence: DROP INDEX of the
    parent (its attached children go with it).
    """
    key = (r["schema"], r["index"])
    keys = [c for c in r["columns"][:r["key_count"]] if c] or ["expr"]

    def name_for(schema: str, table: str) -> str:
        base = ddl.identifier([table, *keys, "idx"])
        return catalog.free_name(schema, base, lambda n: ddl.identifier([table, *keys, f"idx{n}"]))

    fix: list[str] = []
    attachable: list[list[str]] = []
    for (parent_schema, parent), (schema, table) in tree.missing(key):
        twin = tree.twin(tree.rows[(parent_schema, parent)], schema, table)
        if twin is not None:
            attachable.append([schema, table, twin["index"]])
            fix.append(ddl.attach_index(parent_schema, parent, schema, twin["index"]))
        else:
            fix += attach_all(catalog, r["definition"], parent_schema, parent, [(schema, table)], name_for)
    missing = [f"{t}" for _k, (_s, t) in tree.missing(key)]
    return Finding(
        CheckId.INVALID_INDEX, Severity.ERROR, r["schema"], r["table"], r["index"],
        f"partitioned index {r['index']} is INVALID: {len(missing)} partition(s) have no index attached to it "
        f"({', '.join(missing)}); the planner cannot use it on {r['table']} as a whole until each has one "
        f"(a partition created later gets one by itself)",
        {"definition": r["definition"], "unique": r["is_unique"], "partitioned": True,
         "unattached": [[s, t] for _k, (s, t) in tree.missing(key)], "attachable": attachable,
         "partitions": tree.partitions(key), "or_drop": drop},
        fix)
