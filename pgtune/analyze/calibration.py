"""Calibration: the descent charge a what-if plan lacks, added back per probe of a hypothetical b-tree.

PostgreSQL's ``btcostestimate`` charges every b-tree descent
``(tree_height + 1) × 50 × cpu_operator_cost``: one charge per page from the
root to the leaf. HypoPG gives a hypothetical b-tree no height
(``tree_height = -1``), so that charge is zero, and a plan that probes a
hypothetical index once per outer row (a nested loop) looks cheaper than
the same plan over the built index. Here the height the built index will
have (analyze.sizing.height) prices the charge back in, once per time the
plan runs the scan:

* a scan on the inner side of a Nested Loop runs once per outer row, but
  not below a Materialize there, which runs its input once (TPC-DS Q13 was
  charged 16,889 times its 113 probes: 869k for a 173k plan);
* under a Memoize only the cache misses reach it: the distinct values of its
  cache key among the lookups (the cache is assumed to hold them all, as it
  does unless work_mem runs out);
* under a Limit only its share of the rows runs (the first run is startup
  cost and counts whole, as in the planner's own interpolation), except
  below a node that reads its whole input before it returns a row (a Sort,
  a Hash, a hashed or plain Aggregate, a hashed SetOp): a LIMIT above a Sort
  cuts the rows the Sort returns, not those its input must produce (TPC-H
  Q3 and Q18 were charged about 3 cost units for 146,000 probes);
* a SubPlan runs once per row of the node it hangs from, an InitPlan once;
* ``= ANY (array)`` in the index condition descends once per element.

HypoPG also sizes a b-tree without deduplication (PostgreSQL 13+ stores a
repeated key once), so an index on a column with many duplicates reads more
pages per scan to the planner than it will once built: each scan's index
page reads are priced again at the forecast size (analyze.sizing), as
genericcostestimate prices them, over the loop count the planner costed the
scan for (Calibration._pages).

The charge is added to the plan the planner chose over the hypothetical
indexes. With the built indexes the planner may find a cheaper plan still,
so the corrected cost is the cost of one plan the server can run: never
below what the built indexes cost, up to the estimates above.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..capture import Catalog
from . import sizing
from .candidates import Candidate
from .selection_model import Ident

PAGE_CPU_MULTIPLIER = 50.0   # btcostestimate: cpu_operator_cost per page descended (DEFAULT_PAGE_CPU_MULTIPLIER)
_ARRAY = re.compile(r"= ANY \('\{([^}]*)\}'")
_COLUMN = re.compile(r'("?[^".()]+"?)\.("?[^".()]+"?)')   # alias.column, as EXPLAIN prints a Memoize's cache key
# alias.column in an index condition: the alias quoted or plain
_GATHERS = ("Gather", "Gather Merge")     # the nodes whose workers divide the rows of the parallel-aware nodes below
_QUALIFIED = re.compile(r'(?:"((?:[^"]|"")+)"|([A-Za-z_][\w$]*))\.(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)')


@dataclass(frozen=True, slots=True)
class Descent:
    """What the charge of one hypothetical b-tree depends on.

    ``height``: levels above its leaves once built (0: the root is a leaf);
    ``distinct``: distinct values of its leading column (None: unknown), which
    bounds the probes a Memoize lets through.
    """

    height: int
    distinct: float | None = None
    pages: float = 0.0          # pages the built index will have (analyze.sizing.forecast); 0: not known
    hypo_pages: float = 0.0     # pages HypoPG gave the hypothetical one (no deduplication); 0: not known
    tuples: float = 0.0         # its index tuples (the rows it keeps)
    heap_pages: float = 0.0     # its table's pages (pg_class)
    heap_rows: float = 0.0      # ...and rows
    visibility_lost: float = 0.0    # share of those pages pg_class counts all-visible but writes since cleared
    # A partitioned table's leaves, each (name, its pages, its share lost): a scan of one reads that leaf alone.
    leaves: tuple[tuple[str, float, float], ...] = ()

    def sized(self, hypopg_bytes: int) -> Descent:
        """This descent with the size HypoPG gave the hypothetical index."""
        return replace(self, hypo_pages=hypopg_bytes / sizing.PAGE)


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

    def unsampled(self, idents: Iterable[Ident]) -> frozenset[Ident]:
        """Of ``idents`` (selection_model.ident), those with no keys sampled yet: their descents change once one is."""
        keys = self.keys or {}
        return frozenset(i for i in idents if keys.get((i[0], tuple(k.ident for k in i[1]))) is None)

    def sampled_now(self, key: Ident) -> bool:
        return (self.keys or {}).get((key[0], tuple(k.ident for k in key[1]))) is not None

    def descent(self, cand: Candidate) -> Descent:
        sampled = self.sampled(cand)
        kept = self.kept(cand)
        height = sizing.height(self.catalog, cand.table, cand.keys, include=cand.include,
                               fraction=kept, distinct=sampled)
        lead = cand.keys[0]
        distinct = self.catalog.distinct_values(cand.table, lead.column) if lead.expression is None else None
        table = self.catalog.tables.get(cand.table)
        if table is not None and table.partitioned:     # one hypothetical index per leaf: sizes per leaf
            return Descent(height, distinct or None, leaves=tuple(
                (leaf.name, float(leaf.relpages), leaf.visibility_lost)
                for key in self.catalog.leaf_partitions(cand.table)
                if (leaf := self.catalog.tables.get(key)) is not None and leaf.visibility_lost > 0))
        if table is None or table.reltuples <= 0:
            return Descent(height, distinct or None)
        pages = sizing.forecast(self.catalog, cand.table, cand.keys, include=cand.include, fraction=kept,
                                distinct=sampled) / sizing.PAGE
        return Descent(height, distinct or None, pages, 0.0, table.reltuples * (kept if kept is not None else 1.0),
                       float(table.relpages), table.reltuples, table.visibility_lost)

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
    random_page_cost: float = 0.0      # 0: the index's page reads are left as HypoPG's size makes them

    def corrected(self, plan: Mapping[str, Any]) -> float:
        """The plan's total cost with the descent charge of its hypothetical b-trees added."""
        return float(plan.get("Plan", plan)["Total Cost"]) + self.charge(plan)

    def charge(self, plan: Mapping[str, Any]) -> float:
        """Planner cost units ``plan`` lacks for descending the hypothetical b-trees.

        One walk of the plan: a parallel-aware scan's divisor rides down from its
        Gather on the walk's stack, and the aliases a Memoize's cache key names are
        read only when the walk meets one (three walks a plan before; calibration
        prices every what-if plan)."""
        root = plan.get("Plan", plan)
        if not self.descents:
            return 0.0
        aliases: dict[str, str] | None = None
        total = 0.0
        early: dict[int, float] = {}     # id of a semi/anti nested loop's inner node -> the share of its run counted
        # node, runs, share counted, the planner's loop count for it (a nested loop's outer rows), and the divisor
        # its Gather cut a parallel-aware node's rows by (get_parallel_divisor; 1: none)
        stack: list[tuple[Mapping[str, Any], float, float, float, float]] = [(root, 1.0, 1.0, 1.0, 1.0)]
        while stack:
            node, runs, share, loops, divisor = stack.pop()
            kind = node.get("Node Type")
            descent = self.descents.get(node.get("Index Name", ""))
            if descent is not None:
                descend = (descent.height + 1) * PAGE_CPU_MULTIPLIER * self.cpu_operator_cost * _array_scans(node)
                # The descent is startup cost (the first run counts whole); the page reads are the scan's run cost,
                # read as its rows are: under a Limit only its share of them, the first run too. Counted whole,
                # LIMIT 10 over a 5-day range scan was charged every page of the range: a negative total (-2656).
                # A parallel scan's rows are one worker's; its page reads are the whole scan's (cost_index divides
                # only the CPU cost): read per worker, the heap fetches were charged 42% (r11 F14).
                rows = float(node.get("Plan Rows", 1.0))
                if divisor > 1.0 and node.get("Parallel Aware") and kind not in _GATHERS:
                    rows *= divisor
                pages = self._pages(descent, rows, loops)
                if kind == "Index Only Scan":
                    pages += self._heap_fetches(_scanned(descent, node), rows, loops)
                # A semi or anti join's inner scan stops at its first match: the planner counts that share of
                # its run cost (final_cost_nestloop's inner_scan_frac); counted whole, a DELETE … NOT EXISTS over
                # 2M rows was charged -40,000 for pages dedup saves, a negative total (p25: -26,517).
                total += descend * _counted(runs, share) + pages * runs * share * early.get(id(node), 1.0)
            if kind == "Nested Loop" and node.get("Join Type") in ("Semi", "Anti"):
                inner = [p for p in node.get("Plans", ()) if p.get("Parent Relationship") == "Inner"]
                early.update((id(p), min(1.0, 2.0 / (float(p.get("Plan Rows", 1.0)) + 1.0))) for p in inner)
            if kind in _GATHERS:
                workers = float(node.get("Workers Planned", 0))
                # The leader runs the plan too, less the more workers it gathers from (parallel_leader_participation).
                divisor = workers + max(0.0, 1.0 - 0.3 * workers) if workers > 0 else 1.0
            if kind == "Memoize" and aliases is None:
                aliases = _aliases(root)
            stack.extend((child, times, part, looped, divisor)
                         for child, times, part, looped in self._children(node, runs, share, loops, aliases or {}))
        return total

    def _pages(self, descent: Descent, rows: float, loops: float) -> float:
        """What the built index's page reads cost a run beyond (below zero: short of) what HypoPG's size made them.

        HypoPG sizes a b-tree without deduplication (PostgreSQL 13+ stores a
        repeated key once), so an index on a column with many duplicates
        (TPC-H's ``orders (o_custkey)``: 37 MB to HypoPG, 12 MB built) reads
        more pages per probe to the planner than it will once built.
        genericcostestimate's charge is redone with both page counts: the
        pages a scan of ``rows`` index tuples covers, and over ``loops``
        repeated scans Mackert and Lohman's count of distinct pages fetched
        (index_pages_fetched, the cache taken as big enough to hold the index).
        Not below a Merge Join (``loops`` 0), which may read only part of its
        inputs; a semi or anti join's inner side is charged whole, where the
        planner counts part of its run (TPC-H Q22: 0.007 points dearer built).
        """
        if not (self.random_page_cost and descent.pages and descent.hypo_pages and descent.tuples > 1 and loops > 0):
            return 0.0
        return self.random_page_cost * (_index_pages(descent.pages, descent.tuples, rows, loops)
                                         - _index_pages(descent.hypo_pages, descent.tuples, rows, loops))

    def _heap_fetches(self, descent: Descent, rows: float, loops: float) -> float:
        """What an index-only scan's heap fetches on pages no longer all-visible cost a run (q9, Langfuse).

        The what-if plan reads pg_class's all-visible count, the last VACUUM's;
        CREATE INDEX counts the map again, so the built index's plan pays a
        heap fetch on each page the writes since have cleared (Table.visibility_lost):
        a count(*) ... GROUP BY over 3.5 million rows, cheaper by its what-if plan,
        ran 146 -> 280 ms built. Charged as cost_index charges them, an
        uncorrelated random page read per heap page the scan's rows fall on
        (Mackert and Lohman's count over ``loops`` scans), for the lost share.
        """
        if not (self.random_page_cost and descent.visibility_lost > 0 and descent.heap_pages >= 1 and loops > 0):
            return 0.0
        fetched = max(rows, 1.0) * max(loops, 1.0)
        pages = descent.heap_pages
        distinct = min(2 * pages * fetched / (2 * pages + fetched), fetched, pages)   # never more than the table
        return self.random_page_cost * descent.visibility_lost * math.ceil(distinct) / max(loops, 1.0)

    def _children(self, node: Mapping[str, Any], runs: float, share: float, loops: float,
                  aliases: Mapping[str, str]) -> list[tuple[Mapping[str, Any], float, float, float]]:
        """Each child with the times it runs, the share of its cost the total counts, and its loop count."""
        plans: list[Mapping[str, Any]] = list(node.get("Plans", ()))
        kind = node.get("Node Type")
        rows = float(node.get("Plan Rows", 1.0))
        outer = next((p for p in plans if p.get("Parent Relationship") == "Outer"), None)
        out = []
        for child in plans:
            relation = child.get("Parent Relationship")
            times, part, looped = runs, share, loops
            if relation == "InitPlan":
                times, looped = 1.0, 1.0
            elif relation == "SubPlan":
                times, looped = runs * max(rows, 1.0), 1.0
            elif kind == "Nested Loop" and relation == "Inner" and outer is not None \
                    and child.get("Node Type") != "Materialize":
                times = runs * max(float(outer.get("Plan Rows", 1.0)), 1.0)
                looped = _loop_count(outer, child)
            elif kind == "Merge Join":
                looped = 0.0    # it may stop early: the share of its inputs' page reads it counts is not known
            elif kind == "Memoize":
                times = self._misses(node, child, runs, aliases)
            elif kind == "Limit":
                below = float(child.get("Plan Rows", rows)) or 1.0
                part = share * min(1.0, rows / below)
            if _reads_all(node) and relation not in ("InitPlan", "SubPlan"):
                times, part = _counted(times, part), 1.0   # each counted run of it reads its input whole
            out.append((child, times, part, looped))
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


def _scanned(descent: Descent, node: Mapping[str, Any]) -> Descent:
    """``descent`` as the scan ``node`` reads it: on a partitioned table's leaf, with that leaf's pages and the
    share of them its writes cleared (m10: a partitioned table's scans were charged none); a leaf whose map
    nothing cleared, none. Leaves are named without their schema, as a plan names them: two alike, the first."""
    if not descent.leaves:
        return descent
    leaf = next((x for x in descent.leaves if x[0] == node.get("Relation Name")), None)
    return replace(descent, heap_pages=leaf[1], visibility_lost=leaf[2]) if leaf is not None else descent


def _loop_count(outer: Mapping[str, Any], inner: Mapping[str, Any]) -> float:
    """The repeats the planner costed ``inner``'s parameterized scans for (get_loop_count): the rows of the outer
    relation their conditions read, as scanned (the smallest, if several), not the rows the outer side returns
    (TPC-H Q5: 150,000 customers against 15,000 rows joined to a nation). An outer relation read by a
    parameterized scan itself (lineitem by orders by customer) counts all its runs' rows, not one run's."""
    scanned: dict[str, float] = {}
    walk: list[tuple[Mapping[str, Any], float]] = [(outer, 1.0)]
    while walk:
        at, runs = walk.pop()
        rows = max(float(at.get("Plan Rows", 1.0)), 1.0)
        if "Alias" in at:
            # A scan parameterized by a nested loop above it returns its rows per run: the relation's are all runs'.
            scanned[str(at["Alias"])] = rows * runs if _parameterized(at) else rows
        plans = list(at.get("Plans", ()))
        first = next((p for p in plans if p.get("Parent Relationship") == "Outer"), None)
        for child in plans:
            looped = at.get("Node Type") == "Nested Loop" and child.get("Parent Relationship") == "Inner"
            walk.append((child, runs * max(float(first.get("Plan Rows", 1.0)), 1.0)
                         if looped and first is not None else runs))
    read: list[float] = []
    stack = [inner]
    while stack:
        node = stack.pop()
        read += [scanned[alias] for alias in _condition_aliases(node) if alias in scanned]
        stack.extend(node.get("Plans", ()))
    return min(read) if read else max(float(outer.get("Plan Rows", 1.0)), 1.0)


def _parameterized(scan: Mapping[str, Any]) -> bool:
    """Does ``scan``'s index condition name another relation's column (a nested loop's parameter)?"""
    own = str(scan.get("Alias", ""))
    return any(alias != own for alias in _condition_aliases(scan))


def _condition_aliases(node: Mapping[str, Any]) -> Iterator[str]:
    """The relation names (aliases) ``node``'s index and recheck conditions qualify a column with."""
    for cond in (node.get("Index Cond"), node.get("Recheck Cond")):
        for found in _QUALIFIED.finditer(str(cond or "")):
            yield found.group(1).replace('""', '"') if found.group(1) is not None else found.group(2)


def _index_pages(pages: float, tuples: float, rows: float, loops: float) -> float:
    """Index pages one of ``loops`` scans of ``rows`` index tuples reads, as genericcostestimate counts them."""
    per_scan = math.ceil(max(rows, 1.0) * pages / tuples) if pages > 1 else 1.0
    if loops <= 1:
        return per_scan
    fetched = per_scan * loops
    distinct = 2 * pages * fetched / (2 * pages + fetched)     # index_pages_fetched, the cache holding the index
    return (pages if distinct >= pages else math.ceil(distinct)) / loops


def _counted(runs: float, share: float) -> float:
    """Runs that reach the total cost: the first (startup) whole, the others by the Limit's share."""
    return min(runs, 1.0) + max(runs - 1.0, 0.0) * share


def _reads_all(node: Mapping[str, Any]) -> bool:
    """Does ``node`` read its whole input before it returns its first row (its input is its startup cost)?"""
    kind = node.get("Node Type")
    if kind in ("Sort", "Hash"):
        return True
    if kind == "Aggregate":
        return node.get("Strategy") in ("Hashed", "Plain", "Mixed")
    return kind == "SetOp" and node.get("Strategy") == "Hashed"


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
