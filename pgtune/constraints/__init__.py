"""CHECK-constraint proposals, proven against the data before they are offered.

Families (one module each under ``families/``) propose rules from the catalog
and pg_stats; each rule is then checked against every current row with a
bounded query. A rule no row breaks becomes a Proposal, emitted the safe way
(NOT VALID, then VALIDATE in a later phase); a rule rows already break
becomes a data-quality Finding instead.

A rule must never refuse what the application legitimately writes: none is
proposed that a column's DEFAULT breaks (or that pgtune cannot evaluate
against it), none on a table with fewer than ``min_rows`` rows or rules that
fewer than a tenth of that many rows hold a value for (an all-NULL column or an
empty table proves nothing), none on a partition (the partitioned table gets
the rule, proven over all its partitions, and PostgreSQL gives it to every
partition, also those created later), none on a migration tool's own tables,
and no NOT NULL in a database Prisma manages (a nullable column is an optional
field there: the application may write NULL, and the change belongs in
schema.prisma).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import psycopg
from psycopg.rows import dict_row

from .. import catalog_sql, ddl
from ..capture import Catalog, ColumnInfo, read_catalog, read_supplied
from . import names
from .families import FAMILIES, column_order, not_null, value_set
from .model import Candidate, Column, Confidence, ConstraintKind, Finding, Proposal, Skip
from .prove import Prover, Unproven

__all__ = ["Confidence", "ConstraintAdvice", "ConstraintKind", "ConstraintOptions", "Finding", "Proposal", "Skip",
           "propose"]


@dataclass
class ConstraintOptions:
    timeout_ms: int = 10_000
    max_scan_mb: float = 1024.0
    exclude: tuple[str, ...] = ()
    min_rows: int = 1000         # tables with fewer rows (pg_class.reltuples) get no proposal
    prisma: bool = False         # the application's schema is Prisma's (also known from _prisma_migrations)

    @property
    def evidence_rows(self) -> int:
        """Rows that must hold a value for a rule's columns before the data can prove it."""
        return max(1, self.min_rows // 10)


@dataclass
class ConstraintAdvice:
    constraints: list[Proposal] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    unproven: list[Skip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)      # whole families not offered, and why

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_columns(conn: psycopg.Connection[Any], catalog: Catalog | None = None) -> list[Column]:
    """The columns of the catalog snapshot (read now when none is given), as the families see them."""
    cat = catalog if catalog is not None else read_catalog(conn)
    return [Column(**{f.name: getattr(c, f.name) for f in fields(ColumnInfo)}) for c in cat.columns]


def _constrained(conn: psycopg.Connection[Any]) -> set[tuple[str, str, tuple[str, ...]]]:
    """(schema, table, columns) already covered by a CHECK constraint."""
    with catalog_sql.uncompiled(conn), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(catalog_sql.load("check_constraints"))
        return {(r["schema"], r["table"], tuple(r["columns"])) for r in cur.fetchall()}


def constraint_name(cand: Candidate) -> str:
    suffix = {ConstraintKind.NOT_NULL: "not_null", ConstraintKind.COLUMN_ORDER: "order"}.get(cand.kind, "check")
    return ddl.identifier([cand.table, *cand.columns, suffix])


def statements(cand: Candidate, name: str) -> tuple[list[str], list[str]]:
    """(ddl, rollback) in order of execution."""
    s, t = cand.schema, cand.table
    ddl_list = [ddl.add_check(s, t, name, cand.check), ddl.validate_constraint(s, t, name)]
    rollback = [ddl.drop_constraint(s, t, name)]
    if cand.kind == ConstraintKind.NOT_NULL:
        ddl_list += [ddl.set_not_null(s, t, cand.columns[0]), ddl.drop_constraint(s, t, name)]
        rollback = [ddl.drop_not_null(s, t, cand.columns[0]), ddl.drop_constraint(s, t, name)]
    return ddl_list, rollback


def _eligible(catalog: Catalog, opts: ConstraintOptions) -> set[tuple[str, str]]:
    """The tables a rule may be proposed on: the application's own, big enough, never a partition."""
    return {key for key, t in catalog.tables.items()
            if t.parent is None and t.reltuples >= opts.min_rows and not names.is_tool_table(*key)
            and t.name not in opts.exclude and f"{t.schema}.{t.name}" not in opts.exclude}


def _prisma_managed(catalog: Catalog, opts: ConstraintOptions) -> bool:
    return opts.prisma or catalog.prisma_managed


def _families(catalog: Catalog, columns: list[Column], opts: ConstraintOptions, notes: list[str]) -> tuple[Any, ...]:
    """The families this database's own conventions allow; a note for each one left out that had candidates.

    A database that keeps its closed sets in enum types (Prisma's ``enum``)
    made each text column open on purpose: no value set. In a database Prisma
    manages, a NULL-able column is an optional field the application may set
    to NULL: no NOT NULL.
    """
    families = list(FAMILIES)
    enums = sum(1 for c in catalog.columns if c.category == "E")
    if enums:
        families.remove(value_set)
        if held := len(value_set.candidates(columns)):
            notes.append(f"value-set: this database keeps its closed sets in enum types ({enums} column(s) use one), "
                         f"so its {held} enum-like text column(s) are open by design (the application adds values "
                         "as it grows): no value set proposed")
    if _prisma_managed(catalog, opts):
        families.remove(not_null)
        if optional := not_null.candidates(columns):
            notes.append(f"not-null: Prisma manages this database; {len(optional)} NULL-able column(s) hold no NULL "
                         f"({_named(optional)}), but each is an optional field (`Type?`) the application may set to "
                         "NULL: make the field required in schema.prisma if it must be, and Prisma migrates the column")
    return tuple(families)


def _named(held: list[Candidate], most: int = 5) -> str:
    """The first columns of a note, as table.column, so that the reader knows which fields it means (u4's F3)."""
    shown = ", ".join(f"{c.table}.{c.columns[0]}" for c in held[:most])
    return shown + (f" and {len(held) - most} more" if len(held) > most else "")


def propose(conn: psycopg.Connection[Any], options: ConstraintOptions | None = None,
            progress: Callable[[str], None] | None = None, catalog: Catalog | None = None) -> ConstraintAdvice:
    opts = options or ConstraintOptions()
    say = progress or (lambda _m: None)
    cat = catalog if catalog is not None else read_catalog(conn)
    tables = _eligible(cat, opts)
    columns = [c for c in read_columns(conn, cat) if c.table_key in tables]
    existing = _constrained(conn)
    advice = ConstraintAdvice()
    families = _families(cat, columns, opts, advice.notes)
    cands = [(family, cand) for family in families for cand in family.candidates(columns)
             if (cand.schema, cand.table, tuple(sorted(cand.columns))) not in existing]
    say(f"proving {len(cands)} CHECK constraint candidates against the data")
    prover = Prover(conn, cat.policed, timeout_ms=opts.timeout_ms, max_scan_bytes=int(opts.max_scan_mb * 1048576))
    unset = {(c.schema, c.table, c.name): c.unset for c in columns}
    sent = read_supplied(conn, cat) if any(c.kind == ConstraintKind.COLUMN_ORDER for _, c in cands) else None
    sizes = {c.table_key: c.table_bytes for c in columns}
    for family, cand in cands:
        try:
            prover.check_size(sizes.get((cand.schema, cand.table), 0))
            proven = family.prove(cand, prover)
            if proven is None or proven.rule is None:
                continue
            if not proven.rule.admits({c: unset[(proven.schema, proven.table, c)] for c in proven.columns}):
                continue      # a DEFAULT the rule would refuse: never proposed
            count, examples = prover.violations(proven.schema, proven.table, proven.rule.composed(),
                                                proven.columns)
            held = 0 if count else prover.rows_holding(proven.schema, proven.table, proven.columns,
                                                       opts.evidence_rows)
        except Unproven as exc:
            advice.unproven.append(Skip(cand.schema, cand.table, list(cand.columns), cand.kind, str(exc)))
            continue
        if count:
            advice.findings.append(Finding(proven.kind, proven.schema, proven.table, list(proven.columns),
                                           proven.check, count, count >= 1000, examples))
        elif held >= opts.evidence_rows:
            advice.constraints.append(_proposal(column_order.weigh(proven, sent)))
    return advice


def _proposal(proven: Candidate) -> Proposal:
    name = constraint_name(proven)
    ddl_list, rollback = statements(proven, name)
    return Proposal(proven.kind, proven.schema, proven.table, list(proven.columns), name, proven.check,
                    proven.confidence, proven.evidence, ddl_list, rollback)
