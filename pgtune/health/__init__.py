"""pgtune health: what is wrong with the indexes, constraints and sequences that exist, and the fix."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

from ..errors import InputError
from .checks import Check, Context, Declared
from .emit import HealthMigration, fix_list
from .emit import build as build_migration
from .model import CheckId, EmittedMigration, Finding, HealthReport, Severity
from .provenance import annotate, built_by, deployed, owner
from .registry import CHECKS
from .replaced import drop_phase as drop_replaced

__all__ = ["CHECKS", "Check", "CheckId", "Declared", "EmittedMigration", "Finding", "HealthMigration", "HealthReport",
           "Severity", "build_migration", "built_by", "drop_replaced", "fix_list", "run"]


def run(conn: psycopg.Connection[Any], only: Iterable[str] = (), skip: Iterable[str] = (), *,
        replicas: Sequence[psycopg.Connection[Any]] = (), min_stats_age_s: float = 7 * 86_400,
        min_rows: float = 1000, declared: Declared | None = None) -> HealthReport:
    """Run the checks (all, or ``only``, minus ``skip``); findings ordered by severity, then place.

    ``replicas``: their index usage counts too (reads often run there);
    ``min_rows``: foreign keys on smaller tables are not worth an index;
    ``declared``: the index names the application's ORM schema declares per table (which duplicate stays).
    """
    known = {c.id for c in CHECKS}
    unknown = sorted((set(only) | set(skip)) - known)
    if unknown:
        raise InputError(f"unknown check {', '.join(unknown)} (checks: {', '.join(sorted(known))})")
    chosen = [c for c in CHECKS if (not only or c.id in set(only)) and c.id not in set(skip)]
    report = HealthReport(checks=[c.id for c in chosen])
    ctx = Context(conn, tuple(replicas), min_stats_age_s, report.notes, min_rows, declared=declared)
    for check in chosen:
        report.findings.extend(check.run(ctx))
    tool = owner(ctx.catalog())
    annotate(report.findings, built_by(conn), tool if declared is not None else deployed(conn, tool), declared)
    report.findings.sort(key=lambda f: (-f.severity.rank, f.check, f.schema, f.table or "", f.index or ""))
    return report
