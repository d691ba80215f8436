"""Index candidates from statement shapes, and the "is it already served?" test.

A candidate follows the classic btree recipe: equality columns first (most
selective first, from pg_stats; an expression such as ``lower(email)`` counts
as one), then either the ORDER BY columns with their direction or one range
column. Refinements an expert would make:

* a constant that selects a rare value (``status = 'PROCESSING'`` at 0.2% of
  rows) becomes a partial index's predicate instead of a key;
* a few narrow SELECT-list columns become INCLUDE columns so that an
  index-only scan can answer the statement;
* join keys get their own candidate, which a nested-loop inner side probes;
* a foreign key gets one when the workload joins on it, when deletes on the
  parent cascade (ON DELETE CASCADE / SET NULL / SET DEFAULT: each deleted
  parent row rewrites child rows it must first find), or when the parent sees
  deletes at all (even NO ACTION scans the child to check).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from ..capture import Catalog, ForeignKey, Index, TableKey
from ..ddl import IndexKey, equals
from .bind import EQ, FUNC, JOIN, ORDER, OUTPUT, RANGE, STAR, ColumnUse, Shape, normalize_expression


class Origin(StrEnum):
    """Why a candidate exists: a statement's shape, or a foreign key without an index."""

    WORKLOAD = "workload"
    FOREIGN_KEY = "foreign key"


WORKLOAD = Origin.WORKLOAD
FOREIGN_KEY = Origin.FOREIGN_KEY

RARE_VALUE = 0.05          # a constant matching fewer rows than this makes a partial index
STATUS_LIKE = 50           # ...on a column with at most this many distinct values (a status, never an id)
MAX_INCLUDE = 3            # INCLUDE at most this many columns
_NARROW_TYPES = ("integer", "bigint", "smallint", "boolean", "date", "uuid", "real", "double precision",
                 "timestamp", "time", "numeric", "oid")


@dataclass
class Candidate:
    table: TableKey
    keys: tuple[IndexKey, ...]
    equality: int                      # how many leading keys are equality columns (order-free)
    origin: Origin = WORKLOAD
    statements: set[int] = field(default_factory=set)   # positions in the analyzed workload
    foreign_key: ForeignKey | None = None
    where: str | None = None           # partial index predicate, as pglast prints it
    where_label: str | None = None     # short form of the predicate for the index name
    where_fraction: float | None = None  # share of the table's rows the predicate keeps (pg_stats)
    where_column: str | None = None      # the status-like column the predicate tests
    include: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(k.column for k in self.keys)


def from_shape(shape: Shape, position: int, catalog: Catalog, *, rare: float = RARE_VALUE) -> list[Candidate]:
    """The candidates one statement suggests, one per table occurrence and access path."""
    groups: dict[tuple[int, str, TableKey], list[ColumnUse]] = {}
    for use in shape.uses:
        groups.setdefault((use.block, use.alias, use.table), []).append(use)
    order_aliases: dict[int, set[str]] = {}
    for use in shape.uses:
        if use.role == ORDER:
            order_aliases.setdefault(use.block, set()).add(use.alias)

    out: list[Candidate] = []
    for (block, alias, table), uses in groups.items():
        where, where_label, rare_col, fraction = _rare_predicate(uses, table, catalog, rare)
        eq = _unique(u.column for u in uses if u.role == EQ and u.column != rare_col)
        eq.sort(key=lambda c: -catalog.distinct_values(table, c))
        eq_keys = [IndexKey(c) for c in eq]
        eq_keys += [IndexKey(u.column, expression=u.expression)
                    for u in _unique_uses(u for u in uses if u.role == FUNC and u.expression)]
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
        keys = tuple(eq_keys) + tuple(tail)
        if where is not None and not keys:
            keys = (IndexKey(rare_col or ""),)
        if keys:
            include = _include(uses, keys, table, catalog, block in shape.limited_blocks)
            out.append(Candidate(table, keys, len(eq_keys), statements={position}, where=where,
                                 where_label=where_label, where_fraction=fraction, where_column=rare_col,
                                 include=include))
        for col in _unique(u.column for u in uses if u.role == JOIN):
            if col not in eq:
                out.append(Candidate(table, (IndexKey(col),), 1, statements={position}))
    return out


def _rare_predicate(uses: list[ColumnUse], table: TableKey, catalog: Catalog,
                    rare: float) -> tuple[str | None, str | None, str | None, float | None]:
    """(predicate, name label, column) for the rarest constant equality below ``rare``."""
    best: tuple[float, ColumnUse] | None = None
    for u in uses:
        if u.role != EQ or u.value is None or not u.value.startswith("'"):
            continue
        value = u.value[1:-1].replace("''", "'")
        st = catalog.column_stats.get((table[0], table[1], u.column))
        # A partial index pays for a status-like column whose value recurs (a most-common value);
        # a constant on an identifier (`"userId" = 'u42'`) would make an index for one row's owner.
        if st is None or value not in st.most_common_vals:
            continue
        if not 0 < catalog.distinct_values(table, u.column) <= STATUS_LIKE:
            continue
        freq = catalog.value_frequency(table, u.column, value)
        if freq is not None and freq < rare and (best is None or freq < best[0]):
            best = (freq, u)
    if best is None:
        return None, None, None, None
    freq, u = best
    label = f"{u.column}_{u.value[1:-1]}" if u.value else u.column
    return equals(u.column, u.value or ""), label, u.column, freq


def _include(uses: list[ColumnUse], keys: tuple[IndexKey, ...], table: TableKey, catalog: Catalog,
             limited: bool) -> tuple[str, ...]:
    """Narrow SELECT-list columns that would let an index-only scan answer the statement."""
    if limited or any(u.role == STAR for u in uses):
        return ()       # a LIMITed scan reads few heap rows anyway; SELECT * cannot be covered
    t = catalog.tables.get(table)
    if t is None:
        return ()
    keyed = {k.column for k in keys if k.expression is None}
    needed = _unique(u.column for u in uses if u.role in (OUTPUT, EQ, RANGE, ORDER) and u.column not in keyed)
    if not needed or len(needed) > MAX_INCLUDE:
        return ()
    if any(u.role == FUNC for u in uses) or not all(t.column_type(c).startswith(_NARROW_TYPES) for c in needed):
        return ()
    return tuple(needed)


def for_foreign_keys(catalog: Catalog, joined: set[tuple[TableKey, str]]) -> list[Candidate]:
    """A candidate for every foreign key that matters and that no valid index leads with.

    It matters when the workload joins on it, when its ON DELETE action
    cascades (c, n, d), or when the parent sees deletes
    (pg_stat_user_tables.n_tup_del): every deleted parent row makes the server
    scan the child, whatever the action.
    """
    out = []
    for fk in catalog.foreign_keys:
        parent = catalog.tables.get((fk.ref_schema, fk.ref_table))
        relevant = (fk.on_delete in ("c", "n", "d")
                    or any((fk.table_key, c) in joined for c in fk.columns)
                    or (parent is not None and parent.deletes > 0))
        if not relevant:
            continue
        keys = tuple(IndexKey(c) for c in fk.columns)
        cand = Candidate(fk.table_key, keys, len(keys), origin=FOREIGN_KEY, foreign_key=fk)
        if not any(serves_index(i, cand) for i in catalog.indexes_on(fk.table_key)):
            out.append(cand)
    return out


def serves(keys: tuple[IndexKey, ...], predicate: str | None, include: Iterable[str], cand: Candidate) -> bool:
    """Does an index with ``keys``, ``predicate`` and ``include`` answer everything ``cand`` would?

    The candidate must be a prefix of the index, except that its leading
    equality keys may come in any order, and sort directions may be all
    flipped (a backward scan). A partial index serves only a candidate with the
    same predicate; a full index serves a partial candidate too. The
    candidate's INCLUDE columns must be somewhere in the index.
    """
    if len(keys) < len(cand.keys):
        return False
    if predicate is not None and (cand.where is None or
                                  normalize_expression(predicate) != normalize_expression(cand.where)):
        return False
    n = cand.equality
    if {k.ident for k in keys[:n]} != {k.ident for k in cand.keys[:n]}:
        return False
    rest_i, rest_c = keys[n:len(cand.keys)], cand.keys[n:]
    if [k.ident for k in rest_i] != [k.ident for k in rest_c]:
        return False
    same = all(a.descending == b.descending for a, b in zip(rest_i, rest_c, strict=True))
    flipped = all(a.descending != b.descending for a, b in zip(rest_i, rest_c, strict=True))
    if not (same or flipped):
        return False
    available = {k.column for k in keys if k.expression is None} | set(include)
    return set(cand.include) <= available


def index_keys(index: Index) -> tuple[IndexKey, ...] | None:
    """An existing index's keys in candidate terms; None when pgtune cannot compare it."""
    if index.method != "btree" or not index.is_valid:
        return None
    desc = index.descending or (False,) * len(index.columns)
    defs = index.key_defs or tuple(c or "" for c in index.columns)
    keys = []
    for col, d, text in zip(index.columns, desc, defs, strict=False):
        if col is not None:
            keys.append(IndexKey(col, d))
        else:
            keys.append(IndexKey("", d, expression=normalize_expression(text)))
    return tuple(keys)


def serves_index(index: Index, cand: Candidate) -> bool:
    keys = index_keys(index)
    if keys is None:
        return False
    return serves(keys, index.predicate, index.include, _normalized(cand))


def _normalized(cand: Candidate) -> Candidate:
    if not any(k.expression for k in cand.keys):
        return cand
    keys = tuple(IndexKey(k.column, k.descending, normalize_expression(k.expression)) if k.expression else k
                 for k in cand.keys)
    return replace(cand, keys=keys)


def merge(cands: list[Candidate]) -> list[Candidate]:
    """Fold every candidate into a wider one that serves it; return the survivors.

    Widest first, so (userId) folds into (userId, createdAt DESC) and one index
    does the work of two.
    """
    ordered = sorted(cands, key=lambda c: (-len(c.keys), c.where is not None, -len(c.include),
                                           c.origin != WORKLOAD, c.table, tuple(k.ident for k in c.keys)))
    kept: list[Candidate] = []
    by_table: dict[TableKey, list[Candidate]] = {}
    for cand in ordered:
        same_table = by_table.setdefault(cand.table, [])
        host = next((k for k in same_table if serves(k.keys, k.where, k.include, cand)), None)
        if host is None:
            survivor = replace(cand, statements=set(cand.statements))
            kept.append(survivor)
            same_table.append(survivor)
        else:
            host.statements |= cand.statements
            if host.foreign_key is None and cand.foreign_key is not None:
                host.foreign_key = cand.foreign_key
    return kept


def _unique(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for i in items:
        if i not in out:
            out.append(i)
    return out


def _unique_uses(uses: Iterable[ColumnUse]) -> list[ColumnUse]:
    out: list[ColumnUse] = []
    for u in uses:
        if all(u.expression != o.expression for o in out):
            out.append(u)
    return out
