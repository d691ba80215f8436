"""The shape of a statement: which columns of which tables it filters, joins, sorts, groups and reads.

``bind`` (analyze.bind) produces it; candidate generation, values, sessions and
selection read only this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from ..capture import TableKey
from ..roles import RowFilter
from ..sqltext import StatementKind
from .exprs import unqualified
from .params import ParamUse


class Role(StrEnum):
    """What a statement does with a column."""

    EQ = "eq"            # col = value, col IN (...), col = ANY(...)
    RANGE = "range"      # <, <=, >, >=, BETWEEN, LIKE 'prefix%'
    NULL = "null"        # IS [NOT] NULL
    JOIN = "join"        # col = other_table.col
    ORDER = "order"      # ORDER BY col
    GROUP = "group"      # GROUP BY col
    FUNC = "func"        # f(col) compared to a value: an expression index candidate
    OUTPUT = "output"    # col in the SELECT list: INCLUDE material for index-only scans
    STAR = "star"        # SELECT * (or t.*): every column is needed, no index-only scan
    FILTER = "filter"    # read by a filter no b-tree key serves (col <> $1, NOT IN, ILIKE, a + b > 3): no key,
                         # but an index-only scan must carry it as it must an output column


EQ, RANGE, NULL, JOIN, ORDER, GROUP, FUNC, OUTPUT, STAR, FILTER = Role


@dataclass(frozen=True, slots=True)
class ColumnUse:
    table: TableKey
    column: str
    role: Role
    block: int               # query block (SELECT level) the use belongs to
    alias: str               # the range-table entry, so self-joins stay apart
    descending: bool = False
    nulls_first: bool | None = None
    expression: str | None = None  # for FUNC: the printed expression, e.g. lower(email)
    value: str | None = None       # for EQ against a constant: the constant as SQL, e.g. 'pending'
    policy: bool = False           # from a row security policy's USING, not the statement's own text


class Test(StrEnum):
    """A filter on one table that could be a partial index's predicate as it stands."""

    VALUES = "values"      # col IN ('a', 'b') or col = 'a': constants, no parameter
    COMPARE = "compare"    # col1 < col2: two columns of the same row
    NULL_TEST = "null"     # col IS [NOT] NULL


@dataclass
class Conjunct:
    """One AND-ed filter of a query block that reads one table occurrence and nothing else.

    ``sql`` is printed by pglast with bare column names, ready to be (part of)
    an index predicate; ``values`` are the constants of a VALUES test.
    """

    table: TableKey
    alias: str
    block: int
    test: Test
    node: Any = field(repr=False, compare=False)     # the filter in the statement's (shared) tree
    columns: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    negated: bool = False      # IS NOT NULL

    @cached_property
    def sql(self) -> str:
        # Printed on demand: most filters never become a predicate, and printing costs a parse.
        return unqualified(self.node)


@dataclass
class Shape:
    """What a statement asks of its tables."""

    kind: StatementKind
    uses: list[ColumnUse] = field(default_factory=list)
    tables: set[TableKey] = field(default_factory=set)
    limited_blocks: set[int] = field(default_factory=set)
    unbound: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)          # of those, columns their catalog table lacks (dropped)
    foreign: tuple[TableKey, ...] = ()     # foreign tables it reads (of unbound), resolved as the server does
    temporary: list[str] = field(default_factory=list)    # temporary tables it reads or writes
    system: list[str] = field(default_factory=list)       # catalog tables and views it reads
    row_filters: list[RowFilter] = field(default_factory=list)   # row security its role's reads get
    settings: dict[str, ParamUse] = field(default_factory=dict)  # current_setting('x') compared with a column
    unkeyed_sorts: list[str] = field(default_factory=list)   # its own ORDER BY's expressions no key stands for
    params: dict[int, ParamUse] = field(default_factory=dict)
    conjuncts: list[Conjunct] = field(default_factory=list)
    # $n -> the constant the application wrote there (analyze.written): bound as that constant
    written: dict[str, str] = field(default_factory=dict)
    # $n -> any constant the application's text held there (analyze.written.sent_constants): its value
    sent: dict[str, str] = field(default_factory=dict)
