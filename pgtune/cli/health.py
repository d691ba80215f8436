"""pgtune health: review existing indexes, constraints and sequences; each problem with its fix."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from tabulate import tabulate

from ..connect import connect
from ..duration import to_ms
from .shell import (
    DURATION,
    Format,
    LazyChoice,
    Whole,
    connections,
    dsn_option,
    emit_choice,
    emit_json,
    emit_options,
    format_option,
    handle_errors,
    layout_option,
    prisma_choice,
    prisma_options,
    render_prisma,
    style,
    wrote,
)

if TYPE_CHECKING:
    from .. import api
    from ..health import HealthReport, Severity
    from ..prisma.advice import PrismaAdvice


def _library() -> None:
    """The library this command runs, imported once its options are parsed: a usage error answers before it
    loads (c20)."""
    global api, HealthReport, Severity, PrismaAdvice
    from .. import api
    from ..health import HealthReport, Severity
    from ..prisma.advice import PrismaAdvice


def _severities() -> list[str]:
    from ..health import Severity
    return [*(s.value for s in Severity), NEVER]


NEVER = "never"     # --fail-on: no severity makes health exit 1


@click.command()
@dsn_option
@format_option
@click.option("--fail-on", type=LazyChoice(_severities, "warning"), default="warning",
              show_default=True, help="Exit 1 when a finding is at least this severe.")
@click.option("--check", "only", multiple=True, metavar="ID", help="Run only this check (repeatable).")
@click.option("--skip", multiple=True, metavar="ID", help="Leave this check out (repeatable).")
@click.option("--workload-dsn", multiple=True, metavar="DSN",
              help="A replica whose index scans count too: an index read only there is not unused (repeatable).")
@click.option("--min-stats-age", default="7d", show_default=True, type=DURATION,
              help="unused-index runs only when every server's statistics have counted this long (7d, 12h, 0).")
@click.option("--min-rows", default=1000, show_default=True, type=Whole(0),
              help="foreign-key-without-index leaves out tables with fewer rows (a delete scans them in no time).")
@emit_options("Write the fixes as a phased migration folder (default: migrations/<timestamp>_health): "
              "apply, rollback, status and verify work on it.",
              "With --emit: lock_timeout set before each DDL.",
              "With --emit: statement_timeout for statements that are not builds.")
@click.option("--measure", is_flag=True,
              help="With --emit: also time the read-only statements that use an index to drop, for verify.")
@layout_option
@prisma_options("Say what schema.prisma (or the schema folder) must change with the fixes: an @@index to add, "
                "a declared one to remove.",
                "With --prisma-schema: add the @@index lines to the file in place.")
@handle_errors
def health(dsn: str | None, fmt: str, fail_on: str, only: tuple[str, ...], skip: tuple[str, ...],
           workload_dsn: tuple[str, ...], min_stats_age: str, min_rows: int, emit_dir: str | None, lock_timeout: str,
           statement_timeout: str, measure: bool, layout: str, prisma_schema: Path | None, write: bool) -> None:
    """Review existing indexes, constraints and sequences; print each problem with its fix.

    Checks: invalid-index, duplicate-index, overlapping-index,
    foreign-key-without-index, not-valid-constraint, index-larger-than-table,
    sequence-near-overflow, unused-index, stale-statistics, bloated-index,
    bloated-table, hot-blocking-index, xid-wraparound-risk (one page each in
    docs/checks/).
    Exits 1 when a finding reaches --fail-on.

    \b
    Example:
      pgtune health
      pgtune health --fail-on error --format json > health.json
      pgtune health --check invalid-index --check duplicate-index
      pgtune health --workload-dsn "host=replica1 dbname=app" --min-stats-age 14d
      pgtune health --emit migrations/health --fail-on never && pgtune apply migrations/health
      pgtune health --emit prisma/migrations --layout prisma
    """
    _library()
    if only and set(only) <= set(skip):
        # "no problem found (0 checks)", exit 0: a verdict on nothing (u18).
        raise click.UsageError(f"--skip leaves out every check --check names ({', '.join(only)}): none would run")
    prisma = prisma_choice(prisma_schema, write)
    emit = emit_choice(emit_dir, layout, lock_timeout=lock_timeout, statement_timeout=statement_timeout,
                       measure=measure)
    with connect(dsn) as conn, connections(workload_dsn) as replicas:
        report = api.health(conn, only=only, skip=skip, replicas=replicas,
                            min_stats_age_s=to_ms(min_stats_age, "--min-stats-age") / 1000, emit=emit,
                            min_rows=min_rows, prisma=prisma)
    if report.migration is not None:
        m = report.migration
        click.echo(wrote(m.id, len(m.phases), m.directory, layout) if m.phases
                   else "nothing to migrate: no finding has a fix a migration can carry", err=True)
        for line in m.left_out:
            click.echo(f"not in the migration: {line}", err=True)
    if fmt == Format.JSON:
        emit_json(report.as_dict())
    else:
        render(report)
    if report.fails(None if fail_on == NEVER else Severity(fail_on)):
        sys.exit(1)


def render(report: HealthReport) -> None:
    """The findings with their fixes (or none found), the notes, and what schema.prisma must change."""
    if not report.findings:
        click.echo(f"no problem found ({len(report.checks)} checks)")
        for note in report.notes:
            click.echo(f"note: {note}")
    else:
        colors = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}
        click.echo(tabulate([[style(str(f.severity), fg=colors[f.severity]), f.check,
                              f"{f.schema}.{f.table}" if f.table else f.schema, f.index or "-", f.message]
                             for f in report.findings],
                            headers=["severity", "check", "table", "index", "problem"], disable_numparse=True))
        for note in report.notes:
            click.echo(f"note: {note}")
        if isinstance(report.prisma, PrismaAdvice):
            render_prisma(report.prisma)
        if report.migration is None and (report.fixes or report.not_fixed):
            click.echo("\nfix (review before running, in this order; docs/checks/<check>.md explains each):")
            for stmt in report.fixes:
                click.echo(f"  {stmt};")
            for line in report.not_fixed:
                click.echo(f"not in the fix: {line}")
