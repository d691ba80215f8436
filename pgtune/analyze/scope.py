"""Name resolution while binding: the tables, CTEs and subqueries a query block sees, and what each outputs.

Aliases shadow table names, CTE names shadow tables, an unqualified column
resolves to the one entry in scope that has it (ambiguous ones stay unbound),
and a correlated subquery sees the outer scopes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..capture import Table

# Where a derived column (of a CTE, subquery or view) comes from: (base table, its column, its alias).
Origin = dict[str, tuple[Table, str, str]]


@dataclass
class Output:
    """What a statement outputs: column names, and for plain projections the base column behind each."""

    columns: frozenset[str] = frozenset()
    origin: Origin = field(default_factory=dict)


@dataclass
class Entry:
    alias: str
    table: Table | None          # None: a CTE, subquery or view (derived columns)
    columns: frozenset[str] = frozenset()
    origin: Origin = field(default_factory=dict)


@dataclass
class Scope:
    entries: list[Entry] = field(default_factory=list)
    parent: Scope | None = None
    ctes: dict[str, Output] = field(default_factory=dict)

    def cte(self, name: str) -> Output | None:
        s: Scope | None = self
        while s is not None:
            if name in s.ctes:
                return s.ctes[name]
            s = s.parent
        return None

    def resolve(self, fields: tuple[str, ...]) -> tuple[Entry, str] | None:
        """Find the entry a (possibly qualified) column reference points to."""
        s: Scope | None = self
        while s is not None:
            hit = s.resolve_here(fields)
            if hit is not None:
                return hit
            s = s.parent
        return None

    def resolve_here(self, fields: tuple[str, ...]) -> tuple[Entry, str] | None:
        col = fields[-1]
        if len(fields) == 1:
            matches = [e for e in self.entries if col in e.columns]
            return (matches[0], col) if len(matches) == 1 else None
        qual = fields[-2]
        schema = fields[-3] if len(fields) >= 3 else None
        for e in self.entries:
            if e.alias == qual and (schema is None or (e.table is not None and e.table.schema == schema)):
                return (e, col) if col in e.columns else None
        return None
