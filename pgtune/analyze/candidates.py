"""Index candidates from statement shapes, and the "is it already served?" test.

A candidate follows the classic btree recipe: equality columns first (most
selective first, from pg_stats), then either the ORDER BY columns with their
direction or one range column. Join keys get their own candidate, which is
what a nested-loop inner side probes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..capture import Catalog, ForeignKey, Index, TableKey
from ..ddl import IndexKey
from .bind import EQ, JOIN, ORDER, RANGE, Shape

WORKLOAD = "workload"
FOREIGN_KEY = "foreign key"


@dataclass
class Candidate:
    table: TableKey
    keys: tuple[IndexKey, ...]
    equality: int                      # how many leading keys are equality columns (order-free)
    origin: str = WORKLOAD
    statements: set[int] = field(default_factory=set)   # positions in the analyzed workload
    foreign_key: ForeignKey | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(k.column for k in self.keys)


def from_shape(shape: Shape, position: int, catalog: Catalog) -> list[Candidate]:
    """The candidates one statement suggests, one per table occurrence and access path."""
    groups: dict[tuple[int, str, TableKey], list] = {}
    for use in shape.uses:
        groups.setdefault((use.block, use.alias, use.table), []).append(use)
    order_aliases: dict[int, set[str]] = {}
    for use in shape.uses:
        if use.role == ORDER:
            order_aliases.setdefault(use.block, set()).add(use.alias)

    out: list[Candidate] = []
    for (block, alias, table), uses in groups.items():
        eq = _unique(u.column for u in uses if u.role == EQ)
        eq.sort(key=lambda c: -catalog.distinct_values(table, c))
        rng = _unique(u.column for u in uses if u.role == RANGE and u.column not in eq)
        order = [u for u in uses if u.role == ORDER]
        tail: list[IndexKey] = []
        # ORDER BY helps only when every sort key comes from this one table occurrence.
        if order and order_aliases.get(block) == {alias}:
            seen: set[str] = set(eq)
            for u in order:
                if u.column not in seen:
                    tail.append(IndexKey(u.column, u.descending))
                    seen.add(u.column)
        elif rng:
            tail.append(IndexKey(rng[0]))
        if eq or tail:
            keys = tuple(IndexKey(c) for c in eq) + tuple(tail)
            out.append(Candidate(table, keys, len(eq), statements={position}))
        joins = _unique(u.column for u in uses if u.role == JOIN)
        for col in joins:
            if col not in eq:
                out.append(Candidate(table, (IndexKey(col),), 1, statements={position}))
    return out


def for_foreign_keys(catalog: Catalog) -> list[Candidate]:
    """A candidate for every foreign key that no valid index leads with."""
    out = []
    for fk in catalog.foreign_keys:
        keys = tuple(IndexKey(c) for c in fk.columns)
        cand = Candidate(fk.table_key, keys, len(keys), origin=FOREIGN_KEY, foreign_key=fk)
        if not any(serves_index(i, cand) for i in catalog.indexes_on(fk.table_key)):
            out.append(cand)
    return out


def serves(keys: tuple[IndexKey, ...], partial: bool, cand: Candidate) -> bool:
    """Does an index with ``keys`` answer everything ``cand`` would?

    The candidate must be a prefix of the index, except that its leading
    equality columns may come in any order, and sort directions may be all
    flipped (a backward scan). A partial index serves nothing in general.
    """
    if partial or len(keys) < len(cand.keys):
        return False
    n = cand.equality
    if {k.column for k in keys[:n]} != {k.column for k in cand.keys[:n]}:
        return False
    rest_i, rest_c = keys[n:len(cand.keys)], cand.keys[n:]
    if [k.column for k in rest_i] != [k.column for k in rest_c]:
        return False
    same = all(a.descending == b.descending for a, b in zip(rest_i, rest_c))
    flipped = all(a.descending != b.descending for a, b in zip(rest_i, rest_c))
    return same or flipped


def serves_index(index: Index, cand: Candidate) -> bool:
    if index.method != "btree" or not index.is_valid or None in index.columns:
        return False
    desc = index.descending or (False,) * len(index.columns)
    keys = tuple(IndexKey(c, d) for c, d in zip(index.columns, desc) if c is not None)
    return serves(keys, index.predicate is not None, cand)


def merge(cands: list[Candidate]) -> list[Candidate]:
    """Fold every candidate into a wider one that serves it; return the survivors.

    Widest first, so (userId) folds into (userId, createdAt DESC) and one index
    does the work of two.
    """
    ordered = sorted(cands, key=lambda c: (-len(c.keys), c.origin != WORKLOAD, c.table, c.columns))
    kept: list[Candidate] = []
    for cand in ordered:
        host = next((k for k in kept if k.table == cand.table and serves(k.keys, False, cand)), None)
        if host is None:
            kept.append(Candidate(cand.table, cand.keys, cand.equality, cand.origin,
                                  set(cand.statements), cand.foreign_key))
        else:
            host.statements |= cand.statements
            if host.foreign_key is None and cand.foreign_key is not None:
                host.foreign_key = cand.foreign_key
    return kept


def _unique(items) -> list[str]:  # type: ignore[no-untyped-def]
    out: list[str] = []
    for i in items:
        if i not in out:
            out.append(i)
    return out
