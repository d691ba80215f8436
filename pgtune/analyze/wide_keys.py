"""Columns whose values a b-tree cannot hold: no b-tree key or INCLUDE on them.

A b-tree entry is at most 2,704 bytes (PostgreSQL 13+, version 4, 8 kB
pages): past it the build fails ("index row size 3264 exceeds btree version 4
maximum 2704"), or, once built, the application's first long value fails its
INSERT or UPDATE. pg_stats cannot show such values (ANALYZE leaves values
wider than 1 kB out of its lists), so the columns a candidate would key on
are read: the widest stored value (``pg_column_size``, after compression, as
the index would store it) over the table, or over a bounded sample of a big
one, read only and bounded in time. A column of a fixed-width type, or of a
declared width that fits (``varchar(200)``), is not read. A value wider than
WIDE_BYTES, or a mean width (pg_stats) over AVG_WIDE_BYTES, makes the column
wide: a candidate loses it (the rest of its keys may still serve), and a
statement that looked it up by equality gets a hash index costed in its
place (analyze.beyond: a hash entry holds the value's 4-byte hash whatever
its width), with a hint naming the alternatives.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
from psycopg import sql

from ..capture import Catalog, TableKey
from ..ddl import IndexKey, qualified
from .candidates import Candidate
from .key_sample import _sample

BTREE_MAX = 2704           # a b-tree entry's limit (BTMaxItemSize, 8 kB pages, version 4)
WIDE_BYTES = 2000          # a value this wide leaves no room for the entry's header, other keys, or longer values
AVG_WIDE_BYTES = 500       # pg_stats' mean width from which the longest values are taken to pass WIDE_BYTES
SAMPLE_ROWS = 200_000      # rows a table's read covers at most (TABLESAMPLE SYSTEM beyond)
TIMEOUT_MS = 2_000
BYTES_PER_CHAR = 4         # UTF-8's widest character: varchar(n) holds at most 4n bytes
# Types whose values are narrow whatever they hold (fixed width, or a few bytes at most).
_NARROW = ("smallint", "integer", "bigint", "boolean", "date", "real", "double precision", "uuid", "oid",
           "timestamp", "time", "interval", "money", "inet", "cidr", "macaddr", '"char"', "pg_lsn")
_DECLARED = re.compile(r"^(?:character varying|character|bit varying|bit|numeric)\((\d+)")

Item = tuple[TableKey, str]     # a table and a key: a column's name, or an expression's text


@dataclass
class WideKey:
    """A column found too wide for a b-tree, and the statements whose candidates it was taken out of."""

    table: TableKey
    column: str
    widest: int | None                 # bytes of the widest value read; None: pg_stats' mean width alone said so
    avg_width: int | None
    statements: set[int] = field(default_factory=set)   # positions of the analyzed statements
    lookups: set[int] = field(default_factory=set)      # … of those that compare it by equality (a hash serves)

    @property
    def hash_evidence(self) -> str:
        """Why a hash index stands in for a b-tree (its proposal's reason)."""
        return f"{self.column} holds {self._widths}, more than a b-tree entry may hold ({BTREE_MAX:,} bytes)"

    @property
    def _widths(self) -> str:
        return (f"values of up to {self.widest:,} bytes" if self.widest is not None
                else f"values of {self.avg_width or 0:,} bytes on average")

    @property
    def text(self) -> str:
        col = f"{qualified(*self.table)}.{self.column}"
        return (f"{col} holds {self._widths}: no b-tree key or INCLUDE on it is proposed (a b-tree entry is at most "
                f"{BTREE_MAX:,} bytes: the build, or a later write of a longer value, would fail). For lookups by "
                f"equality a hash index serves (its entry is the value's 4-byte hash; costed with the other index "
                f"kinds), or an index on md5({self.column}) with the statement rewritten to compare "
                f"md5({self.column}) = md5($1) as well")


class Widths:
    """What pgtune read of the candidates' key columns' widths, and the wide ones found (read once a column)."""

    def __init__(self, conn: psycopg.Connection[Any], catalog: Catalog) -> None:
        self.conn, self.catalog = conn, catalog
        self.read: dict[Item, int | None] = {}      # the widest value's bytes; None: not read (or could not)
        self.found: dict[Item, WideKey] = {}

    def measure(self, cands: Iterable[Candidate]) -> None:
        """Read the widths of every key and INCLUDE column of ``cands`` not read yet: one statement a table."""
        todo: dict[TableKey, dict[str, IndexKey]] = {}
        for cand in cands:
            for key in (*cand.keys, *(IndexKey(c) for c in cand.include)):
                item = (cand.table, key.expression or key.column)
                if item not in self.read and self._unbounded(cand.table, key):
                    todo.setdefault(cand.table, {})[item[1]] = key
        for table, keys in todo.items():
            self._read(table, keys)

    def _read(self, table: TableKey, keys: dict[str, IndexKey]) -> None:
        """One read of ``table``: each key's widest value (an expression only where it calls nothing but
        PostgreSQL's own functions: readonly)."""
        t = self.catalog.tables.get(table)
        if self.catalog.policed(table):     # the application's policy would refuse or filter the read
            self.read.update({(table, name): None for name in keys})
            return
        rows = t.reltuples if t is not None and t.reltuples > 0 else 0.0
        pct = 100.0 if rows <= SAMPLE_ROWS else max(0.01, 100.0 * SAMPLE_ROWS / rows)
        source: sql.Composable = sql.Identifier(*table)
        if pct < 100.0:
            source = sql.SQL("{} TABLESAMPLE SYSTEM ({}) REPEATABLE (1)").format(source, sql.Literal(pct))
        query = sql.SQL("SELECT /* pgtune */ {} FROM {}").format(sql.SQL(", ").join(
            sql.SQL("max(pg_catalog.pg_column_size({}))").format(
                sql.SQL("({})").format(sql.SQL(k.expression)) if k.expression is not None else sql.Identifier(k.column))
            for k in keys.values()), source)
        row = _sample(self.conn, query, TIMEOUT_MS, check=any(k.expression is not None for k in keys.values()))
        for i, name in enumerate(keys):
            self.read[(table, name)] = int(row[i]) if row is not None and row[i] is not None else None

    def _unbounded(self, table: TableKey, key: IndexKey) -> bool:
        """May the key's values be wide: an expression, or a column of a type that does not bound its width?"""
        if key.expression is not None:
            return True
        info = self.catalog.table_columns(table).get(key.column)
        if info is None:
            return False
        if info.category == "E" or info.type.startswith(_NARROW):
            return False
        declared = _DECLARED.match(info.type)
        return declared is None or int(declared.group(1)) * BYTES_PER_CHAR > WIDE_BYTES

    def wide(self, table: TableKey, key: IndexKey) -> bool:
        if not self._unbounded(table, key):
            return False
        item = (table, key.expression or key.column)
        if item not in self.read:
            self._read(table, {item[1]: key})
        widest = self.read.get(item)
        if widest is not None and widest > WIDE_BYTES:
            return True
        info = self.catalog.table_columns(table).get(key.column) if key.expression is None else None
        return info is not None and (info.avg_width or 0) > AVG_WIDE_BYTES

    def keyable(self, keys: dict[TableKey, list[IndexKey]]) -> dict[TableKey, list[IndexKey]]:
        """``keys`` (per table, what selection may widen an index by) without the wide ones: one read a table."""
        for table, some in keys.items():
            todo = {k.expression or k.column: k for k in some
                    if (table, k.expression or k.column) not in self.read and self._unbounded(table, k)}
            if todo:
                self._read(table, todo)
        return {table: [k for k in some if not self.wide(table, k)] for table, some in keys.items()}

    def narrow(self, cand: Candidate) -> bool:
        """Can a b-tree hold every key and INCLUDE column of ``cand``?"""
        return not any(self.wide(cand.table, k) for k in (*cand.keys, *(IndexKey(c) for c in cand.include)))

    def fit(self, cand: Candidate) -> Candidate | None:
        """``cand`` without its wide keys and INCLUDE columns (None when no key is left).

        An equality key can go alone: the rest still find the rows, in the same
        order, and the statement filters the wide column. A sort or range key
        takes the ones after it along (the order they give starts with it).
        """
        if self.narrow(cand):
            return cand
        keys: list[IndexKey] = []
        equality = 0
        for i, key in enumerate(cand.keys):
            if self.wide(cand.table, key):
                self._note(cand, key, lookup=i < cand.equality and key.expression is None)
                if i >= cand.equality:
                    break
                continue
            keys.append(key)
            equality += i < cand.equality
        include = tuple(c for c in cand.include if not self.wide(cand.table, IndexKey(c)))
        for column in cand.include:
            if column not in include:
                self._note(cand, IndexKey(column), lookup=False)
        if not keys:
            return None
        return replace(cand, keys=tuple(keys), equality=equality, include=include, statements=set(cand.statements))

    def _note(self, cand: Candidate, key: IndexKey, *, lookup: bool) -> None:
        item = (cand.table, key.expression or key.column)
        info = self.catalog.table_columns(cand.table).get(key.column)
        found = self.found.setdefault(item, WideKey(cand.table, item[1], self.read.get(item),
                                                    info.avg_width if info is not None else None))
        found.statements |= cand.statements
        if lookup:
            found.lookups |= cand.statements

    def hints(self) -> list[str]:
        return [w.text for w in self.found.values()]
