"""What the CHECK-constraint families read and produce."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from .. import ddl

TableKey = tuple[str, str]

# Columns that hold free text, identifiers, secrets or documents: never constrained by value.
TRAP_NAMES = re.compile(
    r"(^id$|id$|_id$|uuid|guid|email|e_mail|mail$|name$|title|body|desc|description|content|text|comment|note|"
    r"message|token|hash|secret|password|salt|url|uri|path|slug|phone|address|^ip|json|payload|metadata|key$|"
    r"signature|html|markdown)", re.IGNORECASE)


@dataclass(frozen=True)
class Column:
    schema: str
    table: str
    name: str
    type: str
    category: str               # pg_type.typcategory
    not_null: bool
    reltuples: float
    table_bytes: int
    n_distinct: float | None
    null_frac: float | None
    most_common_vals: tuple[str, ...] = ()
    most_common_freqs: tuple[float, ...] = ()
    avg_width: int | None = None

    @property
    def table_key(self) -> TableKey:
        return (self.schema, self.table)

    @property
    def distinct(self) -> float | None:
        """Estimated distinct values (pg_stats' negative n_distinct is a fraction of rows)."""
        if self.n_distinct is None:
            return None
        return self.n_distinct if self.n_distinct >= 0 else -self.n_distinct * max(self.reltuples, 0)

    @property
    def is_trap(self) -> bool:
        return bool(TRAP_NAMES.search(self.name)) or self.category in ("U", "A")


COMPARISONS = ("<", "<=", ">", ">=", "=", "<>")


@dataclass(frozen=True)
class Rule:
    """A CHECK rule as data, so that it reaches SQL only through a quoting routine.

    ``text()`` is the DDL form (names and literals printed by pglast);
    ``composed()`` is the form pgtune executes to prove it (psycopg.sql).
    ``op`` is ``in`` (column IN values), ``is not null``, a comparison with
    the whole number in ``values[0]``, or with two columns a comparison between them.
    """

    op: str
    columns: tuple[str, ...]
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.op not in ("in", "is not null", *COMPARISONS):
            raise ValueError(f"unknown rule operator {self.op!r}")
        if self.op in COMPARISONS and len(self.columns) == 1:
            int(self.values[0])         # a whole number, never text pasted into SQL

    def text(self) -> str:
        col = ddl.name(self.columns[0])
        if self.op == "in":
            return f"{col} IN ({', '.join(ddl.literal(v) for v in self.values)})"
        if self.op == "is not null":
            return f"{col} IS NOT NULL"
        if len(self.columns) == 2:
            return f"{col} {self.op} {ddl.name(self.columns[1])}"
        return f"{col} {self.op} {self.values[0]}"

    def composed(self) -> sql.Composable:
        col = sql.Identifier(self.columns[0])
        if self.op == "in":
            return sql.SQL("{} IN ({})").format(col, sql.SQL(", ").join(sql.Literal(v) for v in self.values))
        if self.op == "is not null":
            return sql.SQL("{} IS NOT NULL").format(col)
        rhs = sql.Identifier(self.columns[1]) if len(self.columns) == 2 else sql.Literal(int(self.values[0]))
        return sql.SQL("{} {} {}").format(col, sql.SQL(self.op), rhs)


@dataclass(frozen=True)
class Candidate:
    """A rule a family believes in before the data is asked."""

    kind: str                    # value-set, non-negative, positive, not-null, column-order
    schema: str
    table: str
    columns: tuple[str, ...]
    check: str                   # the CHECK expression; for value-set filled in by the proof
    confidence: str              # high, medium
    evidence: dict[str, Any] = field(default_factory=dict)
    rule: Rule | None = field(default=None, compare=False)   # the check as data (see Rule)


@dataclass
class Proposal:
    kind: str
    schema: str
    table: str
    columns: list[str]
    name: str
    check: str
    confidence: str
    evidence: dict[str, Any]
    ddl: list[str]               # statements in order: NOT VALID, VALIDATE (, SET NOT NULL, DROP helper)
    rollback: list[str]


@dataclass
class Finding:
    """Data that already breaks a rule its column's name and statistics promise."""

    kind: str
    schema: str
    table: str
    columns: list[str]
    check: str
    violations: int              # counted up to a bound (see ``bounded``)
    bounded: bool
    examples: list[str]


@dataclass
class Skip:
    schema: str
    table: str
    columns: list[str]
    kind: str
    reason: str
