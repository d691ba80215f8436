"""CHECK-constraint proposals, proven against the data before they are offered.

Families (one module each under ``families/``) propose rules from the catalog
and pg_stats; each rule is then checked against every current row with a
bounded query. A rule no row breaks becomes a Proposal, emitted the safe way
(NOT VALID, then VALIDATE in a later phase); a rule rows already break
becomes a data-quality Finding instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import psycopg
from psycopg.rows import dict_row

from .. import catalog_sql, ddl
from ..capture import Catalog, ColumnInfo, read_catalog
from .families import FAMILIES
from .model import Candidate, Column, ConstraintKind, Finding, Proposal, Skip
from .prove import Prover, TooSlow

__all__ = ["ConstraintAdvice", "ConstraintOptions", "Finding", "Proposal", "Skip", "propose"]


@dataclass
class ConstraintOptions:
    timeout_ms: int = 10_000
    max_scan_mb: float = 1024.0
    exclude: tuple[str, ...] = ()


@dataclass
class ConstraintAdvice:
    constraints: list[Proposal] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    unproven: list[Skip] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_columns(conn: psycopg.Connection[Any], catalog: Catalog | None = None) -> list[Column]:
    """The columns of the catalog snapshot (read now when none is given), as the families see them."""
    cat = catalog if catalog is not None else read_catalog(conn)
    return [Column(**{f.name: getattr(c, f.name) for f in fields(ColumnInfo)}) for c in cat.columns]


def _constrained(conn: psycopg.Connection[Any]) -> set[tuple[str, str, tuple[str, ...]]]:
    """(schema, table, columns) already covered by a CHECK constraint."""
    with conn.cursor(row_factory=dict_row) as cur:
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


def propose(conn: psycopg.Connection[Any], options: ConstraintOptions | None = None,
            progress: Callable[[str], None] | None = None, catalog: Catalog | None = None) -> ConstraintAdvice:
    opts = options or ConstraintOptions()
    say = progress or (lambda _m: None)
    columns = [c for c in read_columns(conn, catalog)
               if c.table not in opts.exclude and f"{c.schema}.{c.table}" not in opts.exclude]
    sizes = {c.table_key: c.table_bytes for c in columns}
    existing = _constrained(conn)
    prover = Prover(conn, timeout_ms=opts.timeout_ms, max_scan_bytes=int(opts.max_scan_mb * 1048576))
    advice = ConstraintAdvice()
    cands = [(family, cand) for family in FAMILIES for cand in family.candidates(columns)
             if (cand.schema, cand.table, tuple(sorted(cand.columns))) not in existing]
    say(f"proving {len(cands)} CHECK constraint candidates against the data")
    for family, cand in cands:
        try:
            prover.check_size(sizes.get((cand.schema, cand.table), 0))
            proven = family.prove(cand, prover)
            if proven is None:
                continue
            assert proven.rule is not None, f"family {proven.kind} gave no rule"
            count, examples = prover.violations(proven.schema, proven.table, proven.rule.composed(),
                                                proven.columns)
        except TooSlow as exc:
            advice.unproven.append(Skip(cand.schema, cand.table, list(cand.columns), cand.kind, str(exc)))
            continue
        if count:
            advice.findings.append(Finding(proven.kind, proven.schema, proven.table, list(proven.columns),
                                           proven.check, count, count >= 1000, examples))
            continue
        name = constraint_name(proven)
        ddl_list, rollback = statements(proven, name)
        advice.constraints.append(Proposal(proven.kind, proven.schema, proven.table, list(proven.columns), name,
                                           proven.check, proven.confidence, proven.evidence, ddl_list, rollback))
    return advice
