"""What the CHECK-constraint families read and produce."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from psycopg import sql

from .. import ddl
from ..capture import ColumnInfo, TableKey, distinct_count
from . import defaults, names
from .defaults import Default, DefaultKind


@dataclass(frozen=True)
class Column(ColumnInfo):
    """A column of the catalog snapshot, with what the families ask of it."""

    @property
    def table_key(self) -> TableKey:
        return (self.schema, self.table)

    @property
    def distinct(self) -> float | None:
        """Estimated distinct values (pg_stats' negative n_distinct is a fraction of rows)."""
        if self.n_distinct is None:
            return None
        return distinct_count(self.n_distinct, self.reltuples)

    @property
    def is_trap(self) -> bool:
        """Free text, an identifier, a secret, a document (by its name's words), JSON or an array: no value rule."""
        return names.is_free_text(self.name) or self.category in ("U", "A")

    @property
    def unset(self) -> Default:
        """What an insert that leaves this column out writes (its DEFAULT, else NULL)."""
        return defaults.read(self.default)


class RuleOp(StrEnum):
    """A CHECK rule's operator: a value set, NOT NULL, or a comparison (with a whole number or another column)."""

    IN = "in"
    NOT_NULL = "is not null"
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "="
    NE = "<>"


COMPARISONS = (RuleOp.LT, RuleOp.LE, RuleOp.GT, RuleOp.GE, RuleOp.EQ, RuleOp.NE)


class ConstraintKind(StrEnum):
    VALUE_SET = "value-set"
    NON_NEGATIVE = "non-negative"
    POSITIVE = "positive"
    NOT_NULL = "not-null"
    COLUMN_ORDER = "column-order"


class Confidence(StrEnum):
    """How far a proven rule can be trusted without a person's word."""

    HIGH = "high"        # the column's name and data agree (count, size, start/end)
    MEDIUM = "medium"    # a person should agree first: a new release may write what the rule refuses
    LOW = "low"          # the data alone (money moves both ways, a code set grows with the app): never written

    @property
    def written(self) -> bool:
        """Whether ``--emit --constraints`` writes a proposal of this confidence into the migration."""
        return self is not Confidence.LOW


@dataclass(frozen=True)
class ConstraintStatements:
    """A CHECK constraint's DDL by name, in the order it runs, and its undo.

    ``add`` (NOT VALID: an instant's lock, no scan) then ``validate`` (a scan
    that blocks no writes); for NOT NULL, ``set_not_null`` (no scan thanks to
    the validated check) and ``drop_helper``. ``undo_not_null`` and ``drop``
    reverse them.
    """

    add: str
    validate: str
    drop: str
    set_not_null: str | None = None
    drop_helper: str | None = None
    undo_not_null: str | None = None


@dataclass(frozen=True)
class Rule:
    """A CHECK rule as data, so that it reaches SQL only through a quoting routine.

    ``text()`` is the DDL form (names and literals printed by pglast);
    ``composed()`` is the form pgtune executes to prove it (psycopg.sql).
    ``op`` is ``in`` (column IN values), ``is not null``, a comparison with
    the whole number in ``values[0]``, or with two columns a comparison between them.
    """

    op: RuleOp
    columns: tuple[str, ...]
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "op", RuleOp(self.op))     # spelt as text (">="), it is the member still
        except ValueError:
            raise ValueError(f"unknown rule operator {self.op!r}") from None
        if self.op in COMPARISONS and len(self.columns) == 1:
            int(self.values[0])         # a whole number, never text pasted into SQL

    def text(self) -> str:
        col = ddl.name(self.columns[0])
        if self.op == RuleOp.IN:
            return f"{col} IN ({', '.join(ddl.literal(v) for v in self.values)})"
        if self.op == RuleOp.NOT_NULL:
            return f"{col} IS NOT NULL"
        if len(self.columns) == 2:
            return f"{col} {self.op} {ddl.name(self.columns[1])}"
        return f"{col} {self.op} {self.values[0]}"

    def admits(self, unset: dict[str, Default]) -> bool:
        """Is a row that leaves the columns out (``unset``: what each one's DEFAULT writes) surely accepted?

        NULL passes a CHECK; a constant is compared; a clock or a generator
        passes ``IS NOT NULL`` only; anything pgtune cannot evaluate fails, so
        the rule is not proposed.
        """
        given = [unset.get(c, defaults.NO_DEFAULT) for c in self.columns]
        if self.op == RuleOp.NOT_NULL:
            return not given[0].may_be_null
        if any(d.kind in (DefaultKind.NONE, DefaultKind.NULL) for d in given):
            return True                  # NULL passes a CHECK (a NOT NULL column without DEFAULT: the app writes it)
        if self.op == RuleOp.IN:
            return given[0].kind == DefaultKind.CONSTANT and given[0].value in self.values
        if len(self.columns) == 2:
            left, right = given
            if left.kind == right.kind == DefaultKind.CLOCK and left.expression == right.expression:
                return self.op in (RuleOp.LE, RuleOp.GE, RuleOp.EQ)      # the same transaction time on both sides
            a, b = left.number(), right.number()
            return a is not None and b is not None and _compare(a, self.op, b)
        number = given[0].number()
        return number is not None and _compare(number, self.op, Decimal(self.values[0]))

    def composed(self) -> sql.Composable:
        col = sql.Identifier(self.columns[0])
        if self.op == RuleOp.IN:
            return sql.SQL("{} IN ({})").format(col, sql.SQL(", ").join(sql.Literal(v) for v in self.values))
        if self.op == RuleOp.NOT_NULL:
            return sql.SQL("{} IS NOT NULL").format(col)
        rhs = sql.Identifier(self.columns[1]) if len(self.columns) == 2 else sql.Literal(int(self.values[0]))
        return sql.SQL("{} {} {}").format(col, sql.SQL(self.op), rhs)


def _compare(a: Decimal, op: RuleOp, b: Decimal) -> bool:
    return {RuleOp.LT: a < b, RuleOp.LE: a <= b, RuleOp.GT: a > b, RuleOp.GE: a >= b, RuleOp.EQ: a == b,
            RuleOp.NE: a != b}[op]


@dataclass(frozen=True)
class Candidate:
    """A rule a family believes in before the data is asked."""

    kind: ConstraintKind
    schema: str
    table: str
    columns: tuple[str, ...]
    check: str                   # the CHECK expression; for value-set filled in by the proof
    confidence: Confidence
    evidence: dict[str, Any] = field(default_factory=dict)
    rule: Rule | None = field(default=None, compare=False)   # the check as data (see Rule)


@dataclass
class Proposal:
    kind: ConstraintKind
    schema: str
    table: str
    columns: list[str]
    name: str
    check: str
    confidence: Confidence
    evidence: dict[str, Any]
    ddl: list[str]               # statements in order: NOT VALID, VALIDATE (, SET NOT NULL, DROP helper)
    rollback: list[str]

    @property
    def statements(self) -> ConstraintStatements:
        """The same DDL by name (``ddl`` and ``rollback`` keep the JSON order)."""
        helper = self.kind == ConstraintKind.NOT_NULL
        return ConstraintStatements(
            add=self.ddl[0], validate=self.ddl[1], drop=self.rollback[-1],
            set_not_null=self.ddl[2] if helper else None, drop_helper=self.ddl[3] if helper else None,
            undo_not_null=self.rollback[0] if helper else None)


@dataclass
class Finding:
    """Data that already breaks a rule its column's name and statistics promise."""

    kind: ConstraintKind
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
    kind: ConstraintKind
    reason: str
