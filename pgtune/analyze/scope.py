"""Name resolution while binding: the tables, CTEs and subqueries a query block sees, and what each outputs.

Aliases shadow table names, CTE names shadow tables, an unqualified column
resolves to the one entry in scope that has it (ambiguous ones stay unbound),
and a correlated subquery sees the outer scopes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..capture import Table

# Where a derived column (of a CTE, subquery or view) comes from: (base table, its column, its alias) each, more
# than one for a set operation's column (each branch's plain column in that position).
Base = tuple[Table, str, str]
SYSTEM_COLUMNS = frozenset({"ctid", "xmin", "xmax", "cmin", "cmax", "tableoid"})   # every table has them
Origin = dict[str, tuple[Base, ...]]


@dataclass
class Output:
    """What a statement outputs: column names, and for plain projections the base columns behind each.

    ``order``: the output's names by position (None where one has no name), what a set operation's other
    branches and a column alias list map by; None when unknown (a ``*`` in the list)."""

    columns: frozenset[str] = frozenset()
    origin: Origin = field(default_factory=dict)
    order: tuple[str | None, ...] | None = None

    def renamed(self, aliases: list[str]) -> Output:
        """The output under a column alias list (``WITH c(a, b) AS``, ``AS s(a, b)``): each alias takes the
        origins of the column in its position; the rest keep their names."""
        if self.order is None or len(aliases) > len(self.order):
            return Output(frozenset(aliases))
        order = (*aliases, *self.order[len(aliases):])
        origin = {new: self.origin[old] for new, old in zip(order, self.order, strict=True)
                  if new is not None and old is not None and old in self.origin}
        return Output(frozenset(n for n in order if n is not None), origin, order)

    def union(self, other: Output) -> Output:
        """A set operation's output: named by this (the left) side, each column's origins those of every side's
        column in its position. A join on a UNION ALL's column reads each branch's table through its own
        column (TPC-DS Q5: ``date_sk`` is ss_sold_date_sk in one branch, sr_returned_date_sk in another)."""
        if self.order is None or other.order is None or len(self.order) != len(other.order):
            return Output(self.columns)
        origin: Origin = {}
        for mine, theirs in zip(self.order, other.order, strict=True):
            found = self.origin.get(mine or "", ()) + other.origin.get(theirs or "", ())
            if mine is not None and found:
                origin[mine] = tuple(dict.fromkeys(found))
        return Output(self.columns, origin, self.order)


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

    def lacks(self, fields: tuple[str, ...]) -> bool:
        """Does the reference certainly name a column its table does not have: one dropped since
        pg_stat_statements counted the statement, which the server refuses to plan? Qualified, by a catalog
        table's alias without that column; unqualified, where every name in reach is a catalog table's (a CTE,
        subquery, view or function in scope may output any name) and none has it, nor is it a table's alias."""
        col = fields[-1]
        if col in SYSTEM_COLUMNS:
            return False
        entries: list[Entry] = []
        s: Scope | None = self
        while s is not None:
            entries += s.entries
            s = s.parent
        if len(fields) == 1:
            return bool(entries) and all(e.table is not None for e in entries) and not any(
                col in e.columns or col == e.alias for e in entries)
        found = next((e for e in entries if e.alias == fields[-2]), None)      # the nearest scope's first
        return found is not None and found.table is not None and col not in found.columns
