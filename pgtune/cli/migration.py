"""pgtune apply, rollback and status: run a migration folder's phases, undo them, and show where they stand."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from tabulate import tabulate

from .._text import one_line
from ..connect import connect, from_prisma, resolve_dsn
from . import shell
from .progress import stderr_is_log
from .shell import Format, Number, Whole, dsn_option, emit_json, format_option, handle_errors, index_sizes, progress

if TYPE_CHECKING:
    from .. import api
    from ..apply import Outcome, SettingState
    from ..capabilities import streaming_standbys


def _library() -> None:
    """The library this command runs, imported once its options are parsed: a usage error answers before it
    loads (c20)."""
    global api, Outcome, SettingState, streaming_standbys
    from .. import api
    from ..apply import Outcome, SettingState
    from ..capabilities import streaming_standbys

migration_dir = click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
wait_for_transactions_option = click.option(
    "--wait-for-transactions", default=300.0, show_default=True, type=Number(0, shell.WAIT_MAX_S), metavar="SECONDS",
    help="Before each concurrent build, REINDEX or drop: how long to wait for the transactions it would wait for "
         "(of any age; named with pid, age and query on stderr once one is open 5 s); still open then, the step is "
         "not started and apply stops, naming them. During a build, its waits for other transactions (which block "
         "nobody) are cut only past this much in all; a wait on a table lock is cut at lock_timeout.")


@click.command()
@migration_dir
@dsn_option
@format_option
@click.option("--phase", type=Whole(1), default=None, help="Apply only this phase.")
@click.option("--through", type=Whole(1), default=None, help="Apply phases up to and including this one.")
@click.option("--dry-run", is_flag=True, help="Show what would run; change nothing.")
@click.option("--retries", default=5, show_default=True, type=Whole(0),
              help="Retries after a lock timeout or a deadlock (backoff 1s, 2s, 4s…, a minute at most each).")
@click.option("--wait", default=60.0, show_default=True, type=Number(0, shell.WAIT_MAX_S),
              help="Seconds to wait for another pgtune apply or rollback on this database to finish "
                   "(0: refuse at once). A killed applier's build is cancelled by the server within seconds.")
@wait_for_transactions_option
@handle_errors
def apply(directory: Path, dsn: str | None, fmt: str, phase: int | None, through: int | None,
          dry_run: bool, retries: int, wait: float, wait_for_transactions: float) -> None:
    """Apply a migration folder's phases, without blocking writes.

    Idempotent: applied phases are skipped, an interrupted phase is reconciled
    from the catalog (INVALID indexes dropped and rebuilt) and carried on.
    Refuses files edited since emit.

    \b
    Example:
      pgtune apply migrations/2026-11-tuning --dry-run
      pgtune apply migrations/2026-11-tuning --phase 1
    """
    _library()
    with connect(dsn) as conn:
        # Build progress needs a second connection; open it only for a person or a log watching (a CI log showed
        # nothing for a long build: r40). Without Prisma's own URL parameters (?schema=, connection_limit),
        # which libpq refuses: the monitor never started (u9).
        watched = shell.stderr_is_tty() or stderr_is_log()
        monitor = from_prisma(resolve_dsn(dsn)) if watched else None
        report = api.apply(conn, directory, phase=phase, through=through, dry_run=dry_run, retries=retries,
                           wait=wait, progress=progress, monitor_dsn=monitor,
                           wait_for_transactions=wait_for_transactions)
        standbys = streaming_standbys(conn)
    _print_report(report, fmt, "apply", standbys)


@click.command()
@migration_dir
@dsn_option
@format_option
@click.option("--phase", type=Whole(1), default=None, help="Roll back only this phase.")
@click.option("--wait", default=60.0, show_default=True, type=Number(0, shell.WAIT_MAX_S),
              help="Seconds to wait for another pgtune apply or rollback to finish (0: refuse at once).")
@wait_for_transactions_option
@click.option("--force", is_flag=True,
              help="Roll back even where a later migration, applied now, relies on an index this one built "
                   "(it dropped the index this one's replaced): that table is left with neither.")
@handle_errors
def rollback(directory: Path, dsn: str | None, fmt: str, phase: int | None, wait: float,
             wait_for_transactions: float, force: bool) -> None:
    """Undo applied phases with their down scripts, last phase first.

    \b
    Example:
      pgtune rollback migrations/2026-11-tuning
      pgtune rollback migrations/2026-11-tuning --phase 2
    """
    _library()
    with connect(dsn) as conn:
        report = api.rollback(conn, directory, phase=phase, wait=wait, progress=progress,
                              wait_for_transactions=wait_for_transactions, force=force)
        standbys = streaming_standbys(conn)
    _print_report(report, fmt, "rollback", standbys)


def _print_report(report: api.Report, fmt: str, verb: str, standbys: int = 0) -> None:
    if fmt == Format.JSON:
        emit_json(report.as_dict())
        return
    for w in report.warnings:
        click.echo(f"warning: {w}", err=True)
    if report.steps:
        click.echo(tabulate([[s.phase, s.status, one_line(s.statement), s.note] for s in report.steps],
                            headers=["phase", "status", "statement", "note"]))
    # p16: a drop took 0.27 s here and stalled a standby's replay 30 s, then cancelled its query on the table.
    locking = sum(s.status == Outcome.DONE and s.statement.lstrip().upper().startswith(("DROP INDEX", "REINDEX"))
                  for s in report.steps)
    if standbys and locking:
        click.echo(f"note: {standbys} standby connection(s) stream from this server: the {locking} DROP INDEX / "
                   "REINDEX run here replay an ACCESS EXCLUSIVE lock there, which waits for the standby's queries "
                   "on those tables up to max_standby_streaming_delay and then cancels them: run such phases when "
                   "the replicas' long reads are done", err=True)
    if not report.phases_run and not any(s.status == Outcome.WOULD_RUN for s in report.steps):
        click.echo(f"{verb}: nothing to do ({report.migration_id})")
    else:
        click.echo(f"{verb}: {report.migration_id}: phases run {report.phases_run or '-'}, "
                   f"skipped {report.phases_skipped or '-'}")


@click.command()
@migration_dir
@dsn_option
@format_option
@handle_errors
def status(directory: Path, dsn: str | None, fmt: str) -> None:
    """Show each phase's state, drift from the catalog and edited files.

    Exits 1 when a phase failed, a planned index is missing or INVALID, or a
    file changed since emit.

    \b
    Example:
      pgtune status migrations/2026-11-tuning
    """
    _library()
    with connect(dsn) as conn:
        st = api.status(conn, directory)
    if fmt == Format.JSON:
        emit_json(st.as_dict())
    else:
        render_status(st)
    if not st.ok:
        sys.exit(1)


def render_status(st: api.Status) -> None:
    """Per phase its state, what is missing or INVALID, sizes; then the settings a config migration set."""
    click.echo(tabulate([[p.number, p.name, p.state, ", ".join(p.missing) or "-", ", ".join(p.invalid) or "-",
                          index_sizes(p.sizes)] for p in st.phases],
                        headers=["phase", "name", "state", "missing", "invalid", "index MB (forecast → real)"]))
    for p in st.phases:
        if p.built_outside:
            click.echo(f"phase {p.number}: {', '.join(p.built_outside)} built outside pgtune apply "
                       f"({p.number:02d}_up.sql run by hand?), exactly as planned: pgtune apply --phase {p.number} "
                       "adopts them")
    for f in st.checksum_mismatches:
        click.echo(f"edited since emit: {f}")
    if st.settings:
        click.echo("")
        click.echo(tabulate([[s.phase, s.target, s.name, s.before if s.before is not None else "(not set)",
                              s.value, s.now if s.now is not None else "(not set)", s.state,
                              "pending restart" if s.pending_restart else (s.in_force or "")]
                             for s in st.settings],
                            headers=["phase", "where", "setting", "at emit", "pgtune sets", "now", "state",
                                     "in force"], disable_numparse=True))
        for s in st.settings:
            if s.pending_restart:
                click.echo(_pending_line(s))


def _pending_line(s: Any) -> str:
    """A restart-level setting written but not in force: applied, rolled back after a restart, or changed by
    someone else — each says what the next restart puts in force."""
    if s.state == SettingState.APPLIED:
        what = f"pgtune's {s.value} is written"
    elif s.state == SettingState.AS_EMITTED:
        what = ("is as at emit (rolled back, or never applied): " +
                (f"postgresql.auto.conf holds {s.now}" if s.now is not None else
                 "not in postgresql.auto.conf (the configuration file's or the default value returns)"))
    else:
        what = f"changed since emit by someone else (postgresql.auto.conf: {s.now or 'not set'})"
    return (f"pending restart: {s.name} {what}; the server still runs {s.in_force} until the next restart; "
            "pgtune never restarts the server")
