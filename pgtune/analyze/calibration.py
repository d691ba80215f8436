"""Calibration: the descent charge a what-if plan lacks, added back per probe of a hypothetical b-tree.

PostgreSQL's ``btcostestimate`` charges every b-tree descent
``(tree_height + 1) × 50 × cpu_operator_cost``: one charge per page from the
root to the leaf. HypoPG gives a hypothetical b-tree no height
(``tree_height = -1``), so that charge is zero, and a plan that probes a
hypothetical index once per outer row (a nested loop) looks cheaper than
the same plan over the built index. Here the height the built index will
have (analyze.sizing.height) prices the charge back in, once per time the
plan runs the scan:

* a scan on the inner side of a Nested Loop runs once per outer row;
* under a Memoize only the cache misses reach it: the distinct values of its
  cache key among the lookups (the cache is assumed to hold them all, as it
  does unless work_mem runs out);
* under a Limit only its share of the rows runs (the first run is startup
  cost and counts whole, as in the planner's own interpolation);
* a SubPlan runs once per row of the node it hangs from, an InitPlan once;
* ``= ANY (array)`` in the index condition descends once per element.

The charge is added to the plan the planner chose over the hypothetical
indexes. With the built indexes the planner may find a cheaper plan still,
so the corrected cost is the cost of one plan the server can run: never
below what the built indexes cost, up to the estimates above.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..capture import Catalog
from . import sizing
from .candidates import Candidate

PAGE_CPU_MULTIPLIER = 50.0   # btcostestimate: cpu_operator_cost per page descended (DEFAULT_PAGE_CPU_MULTIPLIER)
_ARRAY = re.compile(r"= ANY \('\{([^}]*)\}'")
_COLUMN = re.compile(r'("?[^".()]+"?)\.("?[^".()]+"?)')   # alias.column, as EXPLAIN prints a Memoize's cache key


@dataclass(frozen=True)
class Descent:
    """What the charge of one hypothetical b-tree depends on.

    ``height``: levels above its leaves once built (0: the root is a leaf);
    ``distinct``: distinct values of its leading column (None: unknown), which
    bounds the probes a Memoize lets through.
    """

    height: int
    distinct: float | None = None


Distinct = Callable[[str, str], "float | None"]   # (relation name, column) -> distinct values, None: unknown


@dataclass(frozen=True)
class Pricing:
    """What the catalog tells of a candidate's built b-tree: the session's way to price its descents.

    ``kept``: the share of rows a partial candidate keeps (the advisor's sampled
    share where it has one); ``keys``: distinct keys sampled for a multi-column
    or expression candidate, by (table, key idents), where known.
    """

    catalog: Catalog
    kept: Callable[[Candidate], float | None] = lambda cand: cand.where_fraction
    keys: Mapping[tuple[Any, tuple[str, ...]], float | None] | None = None

    def sampled(self, cand: Candidate) -> float | None:
        """The distinct keys sampled for ``cand``'s key, where known."""
        return (self.keys or {}).get((cand.table, tuple(k.ident for k in cand.keys)))

    def descent(self, cand: Candidate) -> Descent:
        sampled = self.sampled(cand)
        height = sizing.height(self.catalog, cand.table, cand.keys, include=cand.include,
                               fraction=self.kept(cand), distinct=sampled)
        lead = cand.keys[0]
        distinct = self.catalog.distinct_values(cand.table, lead.column) if lead.expression is None else None
        return Descent(height, distinct or None)

    def distinct(self, relation: str, column: str) -> float | None:
        """A column's distinct values, its table found by name through pgtune's search_path."""
        table = self.catalog.lookup(None, relation)
        return self.catalog.distinct_values(table.key, column) or None if table is not None else None


@dataclass(frozen=True)
class Calibration:
    """The descents to charge (by HypoPG's index name) and what pricing them reads.

    ``distinct``: a column's distinct values, for a Memoize's cache key
    (``alias.column`` in the plan, resolved to its relation here).
    """

    descents: dict[str, Descent]
    cpu_operator_cost: float
    distinct: Distinct | None = None

    def corrected(self, plan: Mapping[str, Any]) -> float:
        """The plan's total cost with the descent charge of its hypothetical b-trees added."""
        return float(plan.get("Plan", plan)["Total Cost"]) + self.charge(plan)

    def charge(self, plan: Mapping[str, Any]) -> float:
        """Planner cost units ``plan`` lacks for descending the hypothetical b-trees."""
        root = plan.get("Plan", plan)
        if not self.descents:
            return 0.0
        aliases = _aliases(root)
        total = 0.0
        stack: list[tuple[Mapping[str, Any], float, float]] = [(root, 1.0, 1.0)]   # node, runs, share counted
        while stack:
            node, runs, share = stack.pop()
            descent = self.descents.get(node.get("Index Name", ""))
            if descent is not None:
                per_run = (descent.height + 1) * PAGE_CPU_MULTIPLIER * self.cpu_operator_cost * _array_scans(node)
                total += per_run * _counted(runs, share)
            stack.extend(self._children(node, runs, share, aliases))
        return total

    def _children(self, node: Mapping[str, Any], runs: float, share: float,
                  aliases: Mapping[str, str]) -> list[tuple[Mapping[str, Any], float, float]]:
        """Each child with the times it runs and the share of its cost the total counts."""
        plans: list[Mapping[str, Any]] = list(node.get("Plans", ()))
        kind = node.get("Node Type")
        rows = float(node.get("Plan Rows", 1.0))
        outer = next((p for p in plans if p.get("Parent Relationship") == "Outer"), None)
        out = []
        for child in plans:
            relation = child.get("Parent Relationship")
            times, part = runs, share
            if relation == "InitPlan":
                times = 1.0
            elif relation == "SubPlan":
                times = runs * max(rows, 1.0)
            elif kind == "Nested Loop" and relation == "Inner" and outer is not None:
                times = runs * max(float(outer.get("Plan Rows", 1.0)), 1.0)
            elif kind == "Memoize":
                times = self._misses(node, child, runs, aliases)
            elif kind == "Limit":
                below = float(child.get("Plan Rows", rows)) or 1.0
                part = share * min(1.0, rows / below)
            out.append((child, times, part))
        return out

    def _misses(self, memoize: Mapping[str, Any], child: Mapping[str, Any], calls: float,
                aliases: Mapping[str, str]) -> float:
        """The lookups a Memoize passes to ``child``: the distinct cache keys among ``calls`` (cache big enough).

        Distinct keys are the product of the keys' columns' counts; a key that
        is no plain column falls back to the probed index's leading column.
        """
        keys = 1.0
        for key in str(memoize.get("Cache Key", "")).split(", "):
            found = _COLUMN.fullmatch(key.strip())
            count = None
            if found and self.distinct is not None:
                alias = found.group(1).strip('"')
                count = self.distinct(aliases.get(alias, alias), found.group(2).strip('"'))
            if not count:
                count = _probed_distinct(child, self.descents)
                if not count:
                    return calls
            keys *= max(count, 1.0)
        # keys drawn ``calls`` times at random: the distinct ones among them (estimate_num_groups' idea)
        return keys * -math.expm1(-calls / keys)


def _counted(runs: float, share: float) -> float:
    """Runs that reach the total cost: the first (startup) whole, the others by the Limit's share."""
    return min(runs, 1.0) + max(runs - 1.0, 0.0) * share


def _aliases(root: Mapping[str, Any]) -> dict[str, str]:
    """The plan's table aliases, each to its relation's name."""
    found: dict[str, str] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if "Relation Name" in node:
            found[str(node.get("Alias", node["Relation Name"]))] = str(node["Relation Name"])
        stack.extend(node.get("Plans", ()))
    return found


def _probed_distinct(node: Mapping[str, Any], descents: Mapping[str, Descent]) -> float | None:
    """The distinct leading-column values of the hypothetical index a memoized subtree probes."""
    stack = [node]
    while stack:
        here = stack.pop()
        descent = descents.get(here.get("Index Name", ""))
        if descent is not None and descent.distinct:
            return max(descent.distinct, 1.0)
        stack.extend(here.get("Plans", ()))
    return None


def _array_scans(node: Mapping[str, Any]) -> float:
    """Descents per run: the product of the element counts of each ``= ANY ('{…}')`` in the index condition."""
    scans = 1.0
    for found in _ARRAY.finditer(str(node.get("Index Cond", ""))):
        scans *= max(1, found.group(1).count(",") + 1)
    return scans
