"""Row estimates a plan's scans carry, which no index can change: verify's test of moved statistics.

A base relation's estimated rows after its own conditions (``rel->rows``) are the same whichever
path reads it — sequential, index, bitmap — so the same relation scanned at emit and now, with a
different estimate, means the statistics moved (ANALYZE re-sampled, the data grew, extended statistics
arrived), not the indexes. Only scans that run once per execution, in one process, are compared: the
inner side of a Nested Loop is a parameterized scan whose rows are per outer row (these do depend on
the index), and a parallel plan's rows are per worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Key = tuple[str, str]   # (relation, alias)


@dataclass(frozen=True)
class Moved:
    relation: str
    alias: str
    before: float
    now: float

    def __str__(self) -> str:
        name = self.relation if self.alias == self.relation else f"{self.relation} {self.alias}"
        return f"{name}: {self.before:,.0f} -> {self.now:,.0f} rows"


def _scans(node: dict[str, Any], apart: bool = False) -> Iterator[tuple[Key, float, bool]]:
    """Each scan with its rows, and whether they are not the relation's whole estimate (``apart``)."""
    apart = apart or bool(node.get("Parallel Aware"))
    if "Relation Name" in node and "Plan Rows" in node:
        yield (node["Relation Name"], node.get("Alias", node["Relation Name"])), float(node["Plan Rows"]), apart
    kind = node.get("Node Type")
    for child in node.get("Plans") or []:
        # Below a Gather the rows are per worker; on a Nested Loop's inner side, per outer row.
        inner = kind == "Nested Loop" and child.get("Parent Relationship") == "Inner"
        yield from _scans(child, apart or inner or kind in ("Gather", "Gather Merge"))


def once(plan: dict[str, Any]) -> dict[Key, float]:
    """Estimated rows of each relation scanned once per execution; a (relation, alias) seen twice is left out."""
    seen: dict[Key, float] = {}
    twice: set[Key] = set()
    for key, rows, apart in _scans(plan.get("Plan", plan)):
        if apart:
            continue
        if key in seen:
            twice.add(key)
        seen[key] = rows
    return {k: v for k, v in seen.items() if k not in twice}


def moved(before: dict[str, Any], now: dict[str, Any], tolerance: float) -> list[Moved]:
    """The relations whose estimated rows moved by more than ``tolerance`` (either way) between two plans."""
    a, b = once(before), once(now)
    out = []
    for key in sorted(a.keys() & b.keys()):
        low, high = sorted((a[key], b[key]))
        if high > max(low, 1.0) * (1 + tolerance):
            out.append(Moved(key[0], key[1], a[key], b[key]))
    return out
