"""What the CHECK-constraint families read and produce."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

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
