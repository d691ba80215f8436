"""Index candidates from statement shapes, and the "is it already served?" test.

A candidate follows the classic btree recipe: equality columns first (most
selective first, from pg_stats; an expression such as ``lower(email)`` counts
as one), then either the ORDER BY columns with their direction or one range
column. Refinements an expert would make:

* filters that keep few rows whatever the parameters (a status-like value,
  ``status = 'PROCESSING'`` at 0.2% of rows; two of the row's columns
  compared; a NULL test) become a partial index's predicate instead of keys
  (on a partitioned table the full index too: HypoPG plans no partial one there);
* a few narrow SELECT-list columns become INCLUDE columns so that an
  index-only scan can answer the statement;
* join keys get their own candidate, which a nested-loop inner side probes;
* a foreign key gets one when the workload joins on it, or when the parent
  sees deletes (each deleted parent row makes the server find its child rows,
  to cascade or to check) — not while the parent is empty; it is not hot (not
  in the first phase) while every row leaves the key NULL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from ..capture import Catalog, ForeignKey, Index, TableKey
from ..constraints.names import ENUM_WORDS, words
from ..ddl import IndexKey, equals
from ..sqltext import constant_value as constant_text
from . import null_keys
from .bind import EQ, FUNC, JOIN, ORDER, RANGE, ColumnUse, Conjunct, Shape, Test, normalize_expression
from .covering import MAX_INCLUDE, include_columns, plain, unique
from .fk_gist import gist_serves


class Origin(StrEnum):
    """Why a candidate exists: a statement's shape, or a foreign key without an index."""

    WORKLOAD = "workload"
    FOREIGN_KEY = "foreign key"


WORKLOAD = Origin.WORKLOAD
FOREIGN_KEY = Origin.FOREIGN_KEY

RARE_VALUE = 0.05          # a predicate keeping fewer rows than this makes a partial index only (else both)
NARROWS = 0.5              # a filter joins the predicate when it keeps less than this share of rows
COMPARE_SHARE = 1 / 3      # rows kept by col1 < col2, as the planner guesses it (DEFAULT_INEQ_SEL)
STATUS_LIKE = 50           # ...on a column with at most this many distinct values (a status, never an id)


@dataclass(slots=True)     # tens of thousands of them at 20,000 statements: no __dict__ each
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
    where_guessed: bool = False          # where_fraction includes the planner's guess for a column comparison
    include: tuple[str, ...] = ()
    hot: bool = True                     # a foreign key's: False when no row references the parent yet
    parent_deletes: bool = False         # a foreign key's parent sees deletes: each one searches this key
    # selection.ident's answer, made once: every dict selection and what-if costing key by it held its own
    # tuple (300,000 of them, 21 MB at 20,000 statements, issue 28). Not copied by replace (not an init field).
    ident_: tuple[TableKey, tuple[IndexKey, ...], str | None, tuple[str, ...]] | None = field(
        default=None, init=False, repr=False, compare=False)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(k.column for k in self.keys)


def from_shape(shape: Shape, position: int, catalog: Catalog, *, rare: float = RARE_VALUE,
               literals: bool = True) -> list[Candidate]:
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
        filters = [c for c in shape.conjuncts if (c.block, c.alias, c.table) == (block, alias, table)]
        pred = _predicate(uses, filters, table, catalog, literals)
        if pred is not None:
            out += _for_group(shape, uses, table, catalog, position, order_aliases, block, alias, pred)
        if pred is None or pred.fraction >= rare or null_keys.unplanned(catalog, table):
            out += _for_group(shape, uses, table, catalog, position, order_aliases, block, alias, None)
    return out


@dataclass(frozen=True)
class Predicate:
    """A partial index's WHERE: the statement's own filters that keep few rows, AND-ed."""

    sql: str
    label: str
    fraction: float                   # rows kept (pg_stats; a column comparison as the planner guesses)
    decided: frozenset[str]           # columns the predicate pins to its constants: no key needed
    column: str | None = None         # the status-like column, for the reason text
    guessed: bool = False             # a column comparison's share is the planner's guess
    implied: frozenset[str] = frozenset()   # every column the predicate tests: an index-only scan needs none


def _for_group(shape: Shape, uses: list[ColumnUse], table: TableKey, catalog: Catalog, position: int,
               order_aliases: dict[int, set[str]], block: int, alias: str,
               pred: Predicate | None) -> list[Candidate]:
    """The candidates of one table occurrence, partial with ``pred`` or full without."""
    out: list[Candidate] = []
    decided = pred.decided if pred is not None else frozenset()
    where = pred.sql if pred is not None else None
    where_label = pred.label if pred is not None else None
    fraction = pred.fraction if pred is not None else None
    rare_col = pred.column if pred is not None else None
    guessed = pred is not None and pred.guessed
    eq = unique(u.column for u in uses if u.role == EQ and u.column not in decided)
    # A row security policy's column ("tenantId") leads: every statement of its role filters on it.
    policy = {u.column for u in uses if u.policy}
    eq.sort(key=lambda c: (c not in policy, -catalog.distinct_values(table, c)))
    eq_keys = [IndexKey(c) for c in eq]
    eq_keys += [IndexKey(u.column, expression=u.expression)
                for u in _unique_uses(u for u in uses if u.role == FUNC and u.expression)]
    rng = unique(u.column for u in uses if u.role == RANGE and u.column not in eq)
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
    if where is not None and not keys and rare_col is not None:
        keys = (IndexKey(rare_col),)
    if keys:
        include = include_columns(uses, keys, table, catalog, block in shape.limited_blocks,
                                  pred.implied if pred is not None else frozenset())
        out.append(Candidate(table, keys, len(eq_keys), statements={position}, where=where,
                             where_label=where_label, where_fraction=fraction, where_column=rare_col,
                             where_guessed=guessed, include=include))
    for col in unique(u.column for u in uses if u.role == JOIN):
        if col not in eq:
            out.append(Candidate(table, (IndexKey(col),), 1, statements={position}))
            if where is not None:
                # A join key probed from the other side: with the filters as predicate, only the rows
                # the statement keeps are in it (a fraction of the size).
                out.append(Candidate(table, (IndexKey(col),), 1, statements={position}, where=where,
                                     where_label=where_label, where_fraction=fraction, where_column=rare_col,
                                     where_guessed=guessed))
    return out


def _predicate(uses: list[ColumnUse], filters: list[Conjunct], table: TableKey,
               catalog: Catalog, literals: bool = True) -> Predicate | None:
    """The filters of one table occurrence that could be a partial index's predicate, AND-ed.

    A filter qualifies when it stays true for the statement whatever its parameters: a constant on a status-like
    column (a most-common value, or a parameter that nearly always carries one; not where ``literals`` is False: a
    file's shape seen with other constants), a comparison of two of the row's own columns, or a NULL test. It
    joins the predicate when it keeps fewer than half the rows; the rows kept multiply (independence).
    """
    parts: list[tuple[str, str, float]] = []          # sql, label, fraction
    decided: set[str] = set()
    implied: set[str] = set()
    column: str | None = None
    rarest = 1.0
    fixed = {f.columns[0] for f in filters if literals and f.test == Test.VALUES and len(f.values) == 1}
    for u in uses:
        if u.role != EQ or u.value is None or not u.value.startswith("'") or u.column in decided:
            continue
        if u.column not in fixed:
            continue        # inside an OR or NOT: a partial index on it would not serve the statement
        freq = _common_frequency(catalog, table, u.column, [u.value])
        if freq is not None and freq < NARROWS:
            parts.append((equals(u.column, u.value), f"{u.column}_{u.value[1:-1]}", freq))
            decided.add(u.column)
            if freq < rarest:
                rarest, column = freq, u.column
    for f in filters:
        if literals and f.test == Test.VALUES and len(f.values) > 1 and f.columns[0] not in decided:
            freq = _common_frequency(catalog, table, f.columns[0], list(f.values))
            if freq is not None and freq < NARROWS:
                parts.append((f.sql, f"{f.columns[0]}_in", freq))
                decided.add(f.columns[0])
        elif f.test == Test.COMPARE:
            parts.append((f.sql, "_".join(f.columns), COMPARE_SHARE))
            implied.update(f.columns)
        elif f.test == Test.NULL_TEST:
            st = catalog.column_stats.get((table[0], table[1], f.columns[0]))
            if st is not None:
                kept = 1.0 - st.null_frac if f.negated else st.null_frac
                if kept < NARROWS:
                    parts.append((f.sql, f"{f.columns[0]}_{'notnull' if f.negated else 'null'}", kept))
                    implied.update(f.columns)
    if not parts:
        return None
    parts.sort()
    fraction = 1.0
    for _sql, _label, kept in parts:
        fraction *= kept
    label = re.sub(r"\W+", "_", "_".join(p[1] for p in parts)).strip("_")
    return Predicate(" AND ".join(p[0] for p in parts), label, fraction, frozenset(decided), column,
                     guessed=any(f.test == Test.COMPARE for f in filters), implied=frozenset(implied | decided))


def _common_frequency(catalog: Catalog, table: TableKey, column: str, values: list[str]) -> float | None:
    """Rows where a status-like ``column`` holds one of ``values`` (printed constants), if all are common.

    A constant on an identifier (``"userId" = 'u42'``) would make an index for
    one row's owner; a value outside the most-common list has no reliable share.
    A uuid is an identifier however few there are yet (umami's ten websites), and so is a name ending in
    Id (u11: one partial index per "runtimeEnvironmentId"), but for a lookup table's (``"statusId"``).
    """
    st = catalog.column_stats.get((table[0], table[1], column))
    if st is None or not 0 < catalog.distinct_values(table, column) <= STATUS_LIKE:
        return None
    parts = words(column)
    if parts and parts[-1] in ("id", "ids", "uuid", "guid", "cuid") and not ENUM_WORDS & set(parts[-2:-1]):
        return None
    t = catalog.tables.get(table)
    if t is not None and t.column_type(column) == "uuid":
        return None
    padded = t is not None and t.column_type(column).startswith("character(")
    common = [v.rstrip() if padded else v for v in st.most_common_vals]
    total = 0.0
    for printed_value in values:
        value = constant_text(printed_value)
        if value is None:
            return None
        if padded:
            value = value.rstrip()
        if value in common:
            total += st.most_common_freqs[common.index(value)]
        elif catalog.distinct_values(table, column) > len(common):
            return None     # one of the values the statistics do not list: no reliable share
        # else every value the column holds is listed, and this one is not among them: no rows
    return total


def for_foreign_keys(catalog: Catalog, joined: set[tuple[TableKey, str]],
                     deleted: set[TableKey] | None = None) -> list[Candidate]:
    """A candidate for every foreign key that matters and that no valid index leads with.

    It matters when the workload joins on it, or when the parent sees deletes
    (pg_stat_user_tables.n_tup_del, or a DELETE of the workload: ``deleted``):
    every deleted parent row makes the server scan the child, whatever the ON
    DELETE action. A key whose parent nobody deletes from (a cascade that never fires) would only slow the writes:
    ``health`` lists it (foreign-key-without-index) for a DBA to judge.
    """
    out = []
    for fk in catalog.foreign_keys:
        parent = catalog.tables.get((fk.ref_schema, fk.ref_table))
        joins = any((fk.table_key, c) in joined for c in fk.columns)
        empty = parent is not None and parent.reltuples == 0      # analyzed, and no row (-1: never analyzed)
        deletes = parent is not None and (parent.deletes > 0 or parent.key in (deleted or set()))
        relevant = joins or (not empty and deletes)
        if not relevant:
            continue
        keys = tuple(IndexKey(c) for c in fk.columns)
        cand = Candidate(fk.table_key, keys, len(keys), origin=FOREIGN_KEY, foreign_key=fk,
                         hot=not empty and not _all_null(catalog, fk), parent_deletes=deletes and not empty)
        if not any(serves_foreign_key(i, fk, catalog) for i in catalog.indexes_on(fk.table_key)):
            out.append(null_keys.partial(cand, catalog, fk))     # mostly NULL: WHERE key IS NOT NULL
    return out


def kept_unused(cand: Candidate) -> bool:
    """Does the set keep this index although no statement's plan uses it?

    Only a foreign key's whose parent sees deletes: each deleted parent row
    makes the server search the child by this key (to cascade, or to check),
    a search no plan of the workload shows. A key kept because the workload
    joins on it must earn its place in a plan, like any other index.
    """
    return cand.foreign_key is not None and cand.parent_deletes


def _all_null(catalog: Catalog, fk: ForeignKey) -> bool:
    """Every row leaves the key unset (pg_stats null_frac 1): a parent's delete finds no row to act on."""
    for column in fk.columns:
        st = catalog.column_stats.get((fk.schema, fk.table, column))
        if st is None or st.null_frac < 1.0:
            return False
    return True


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


FK_PREFIX_ROWS = 100
"""Rows per value an index on part of a foreign key may leave its check to filter (a delete then reads that many)."""


def hash_serves(index: Index, fk: ForeignKey) -> bool:
    """A hash index on a one-column key's column serves its check: the check is one equality.

    Prisma writes ``@@index([pollId], type: Hash)`` as such an index; the delete's
    check probes it, so a b-tree beside it would be a second index for one job.
    """
    return (index.method == "hash" and index.is_valid and index.predicate is None
            and len(fk.columns) == 1 and tuple(index.columns) == tuple(fk.columns))


def hash_twin(index: Index, cand: Candidate) -> bool:
    """Would ``cand`` be a b-tree twin of the hash index ``index``: one column, looked up by equality only?

    The hash index already finds those rows (an IN list too, through a bitmap scan); the planner credits the
    b-tree only for the heap order a b-tree's statistics describe, which the same rows have whichever index finds
    them (u3's R4 on rallly: 4.6x credited, nothing measured). What a b-tree adds beside it (a range, an ORDER BY,
    a second key) needs a second key or a non-equality one, and such a candidate is no twin.
    """
    return (index.method == "hash" and index.is_valid and index.predicate is None and len(cand.keys) == 1
            and cand.equality == 1 and cand.keys[0].expression is None and tuple(index.columns) == cand.columns)


def unique_pins(index: Index, cand: Candidate) -> bool:
    """Does a unique index on columns ``cand`` compares by equality already find its one row?

    ``(id, deleted)`` behind a primary key on ``id`` has at most one row to filter, sort or cover: the second index
    would only cost writes (u3's R5).
    """
    if not (index.is_unique and index.is_valid and index.predicate is None) or None in index.columns:
        return False
    pinned = {k.column for k in cand.keys[:cand.equality] if k.expression is None}
    return bool(index.columns) and set(index.columns) <= pinned


def serves_foreign_key(index: Index, fk: ForeignKey, catalog: Catalog) -> bool:
    """Can the server find a parent's child rows through ``index`` when the parent is deleted?

    An index on all the key's columns can (also one WHERE the key IS NOT NULL; a GiST one by ``=``: fk_gist). So
    can one that leads with some of them when those few columns already narrow the child to a handful of rows
    (``("eventId")`` for the key ``("eventId", "eventCreatedAt")``): the check's generic plan probes it and filters
    the rest. Rows per value are reckoned from the most distinct leading column alone, which never overstates how
    narrow the lead is (a hash index's one column too). No other partial index serves.
    """
    keys, full = tuple(IndexKey(c) for c in fk.columns), null_keys.as_full(index, fk)   # WHERE key IS NOT NULL
    if (serves_index(full, Candidate(fk.table_key, keys, len(keys), foreign_key=fk)) or hash_serves(index, fk)
            or gist_serves(index, fk)):
        return True
    if index.predicate is not None or not index.is_valid:
        return False
    lead: list[str] = []
    if index.method == "hash":      # one column, by equality (u10: Langfuse's dataset_id)
        lead = [c for c in index.columns[:1] if c is not None and c in fk.columns]
    for k in index_keys(index) or ():
        if k.expression is not None or k.column not in fk.columns or k.column in lead:
            break
        lead.append(k.column)
    table = catalog.tables.get(fk.table_key)
    if not lead or table is None or table.reltuples <= 0:
        return False
    distinct = max(catalog.distinct_values(fk.table_key, c) for c in lead)
    return distinct >= 1 and table.reltuples / distinct <= FK_PREFIX_ROWS


def made_redundant(cand: Candidate, catalog: Catalog) -> list[str]:
    """The existing indexes ``cand`` serves everything of: once it is built, they only cost writes.

    An index is redundant when its keys are a prefix of the new one's in the
    same order and directions (or all flipped), its INCLUDE columns are in the
    new one, and it has the new one's predicate (or the new one has none).
    Unique and primary-key indexes enforce a constraint and are never named.
    """
    out = []
    new = _normalized(cand)
    for index in catalog.indexes_on(cand.table):
        keys = index_keys(index)
        if keys is None or index.is_unique or index.is_primary:
            continue
        old = Candidate(cand.table, keys, 0, where=index.predicate, include=tuple(index.include))
        if serves(new.keys, new.where, new.include, old):
            out.append(index.name)
    return sorted(out)


def replacing(cand: Candidate, existing: list[Index]) -> Candidate | None:
    """The covering twin of an existing index that has ``cand``'s keys already: its keys, ``cand``'s INCLUDE.

    The twin makes it redundant (made_redundant; the migration drops it once the
    twin is valid, health.replaced): the advice widens the application's index
    rather than add a second with the same keys (u8: Umami's ``(website_id,
    created_at)`` for index-only scans). None for a unique, primary-key or
    expression index, or when its INCLUDE and ``cand``'s exceed MAX_INCLUDE.
    """
    bare = replace(cand, include=())
    for index in existing:
        keys = index_keys(index)
        if keys is None or index.is_unique or index.is_primary or any(k.expression for k in keys) or not plain(index) \
                or not serves_index(index, bare) or (index.predicate is None) != (cand.where is None):
            continue        # (a full index serves a partial candidate, whose INCLUDE leaves out its predicate's)
        include = tuple(unique(c for c in (*index.include, *cand.include) if c not in {k.column for k in keys}))
        if cand.include and len(include) <= MAX_INCLUDE:
            partial = index.predicate is not None
            return Candidate(cand.table, keys, cand.equality, statements=set(cand.statements),
                             where=index.predicate, where_label=cand.where_label if partial else None,
                             where_fraction=cand.where_fraction if partial else None, include=include)
    return None


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
                host.foreign_key, host.parent_deletes = cand.foreign_key, cand.parent_deletes
    return kept



def _unique_uses(uses: Iterable[ColumnUse]) -> list[ColumnUse]:
    out: list[ColumnUse] = []
    for u in uses:
        if all(u.expression != o.expression for o in out):
            out.append(u)
    return out
