"""The pgtune command line: a thin shell over the library.

Each command parses options, makes one library call and renders the result.
Exit codes: 0 ok, 1 a check failed, 2 usage or connection error.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import psycopg
from tabulate import tabulate

from . import __version__, api
from ._text import one_line
from .analyze import Advice, CurvePoint, Options, SizeBasis, SkipKind
from .apply import IndexSize, Outcome, SettingState
from .capabilities import Capabilities
from .capture import WorkloadFilter, decode_queries, read_queries_file
from .config import Profile
from .config import Storage as ConfigStorage
from .config.units import parse_size
from .connect import connect, redact, resolve_dsn
from .constraints import ConstraintAdvice
from .duration import check_timeout, to_ms
from .errors import Interrupted, PgtuneError
from .health import Severity
from .plan import Layout
from .prisma.advice import Fit, PrismaAdvice
from .verify import check_report_path, junit


def _stderr_is_tty() -> bool:
    return sys.stderr.isatty()


def progress(msg: str) -> None:
    """Progress goes to stderr, and only when a person is watching."""
    if _stderr_is_tty():
        click.echo(f"… {msg}", err=True)


def style(text: str, **kw: Any) -> str:
    if os.environ.get("NO_COLOR") or not sys.stdout.isatty():
        return text
    return click.style(text, **kw)


def fail(message: str, code: int) -> None:
    click.echo(f"pgtune: {message}", err=True)
    sys.exit(code)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        dsn = resolve_dsn(kwargs.get("dsn"))
        try:
            return fn(*args, **kwargs)
        except PgtuneError as exc:
            fail(redact(one_line(str(exc), 2000), dsn), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", Interrupted.exit_code)
    return wrapper


def _redact_argv(text: str, argv: list[str]) -> str:
    """Usage errors echo arguments back: a DSN given where an option was expected carries its password."""
    for arg in argv:
        text = redact(text, arg)
    return redact(text, "")


class _Group(click.Group):
    """Runs click without its own error printing, so that usage errors are redacted too."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, windows_expand_args: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        try:
            return super().main(argv, prog_name, complete_var, standalone_mode=False,
                                windows_expand_args=windows_expand_args, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            if ctx is not None and isinstance(exc, click.UsageError):
                click.echo(_redact_argv(ctx.get_usage(), argv), err=True)
                if ctx.command.get_help_option(ctx) is not None:
                    click.echo(f"Try '{ctx.command_path} {ctx.help_option_names[0]}' for help.", err=True)
            fail(_redact_argv(exc.format_message(), argv), 2)
        except click.exceptions.Abort:
            fail("interrupted", Interrupted.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", Interrupted.exit_code)
        except Exception as exc:
            if os.environ.get("PGTUNE_DEBUG"):
                raise
            fail(_redact_argv(f"internal error ({type(exc).__name__}: {one_line(str(exc), 300)}); "
                              "re-run with PGTUNE_DEBUG=1 for the traceback and report it", argv), 1)


class _Duration(click.ParamType[str]):
    """A PostgreSQL duration (``5s``, ``500ms``, ``2min``), refused where it enters."""

    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return check_timeout(str(value))
        except PgtuneError:
            self.fail(f"{value!r} is not a duration: use e.g. 5s, 500ms, 2min (a bare number is ms)", param, ctx)


DURATION = _Duration()

dsn_option = click.option(
    "--dsn", metavar="DSN", help="libpq connection string or URL. Default: $DATABASE_URL, "
    "else libpq's PG* variables, service file and .pgpass.")
format_option = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
                             show_default=True, help="Output format.")

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def options(*decorators: Decorator) -> Decorator:
    """Several click options as one decorator; --help lists them in the order given."""
    def apply(fn: Callable[..., Any]) -> Callable[..., Any]:
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn
    return apply


def emit_options(emit_help: str, lock_help: str, statement_help: str) -> Decorator:
    """--emit [DIR] and the timeouts its migration sets (each command says what they cover)."""
    return options(
        click.option("--emit", "emit_dir", is_flag=False, flag_value="", default=None, metavar="[DIR]", help=emit_help),
        click.option("--lock-timeout", default="5s", show_default=True, type=DURATION, help=lock_help),
        click.option("--statement-timeout", default="1min", show_default=True, type=DURATION, help=statement_help))


layout_option = click.option(
    "--layout", type=click.Choice([x.value for x in Layout]), default=Layout.PGTUNE.value, show_default=True,
    help="With --emit: pgtune's folder (apply/rollback/verify), or files your migration tool runs, "
         "added to its folder: prisma (a folder per phase and per concurrent build), flyway, golang-migrate.")


def prisma_options(schema_help: str, write_help: str) -> Decorator:
    """--prisma-schema FILE and --write (which needs it)."""
    return options(
        click.option("--prisma-schema", type=click.Path(path_type=Path, exists=True), default=None, help=schema_help),
        click.option("--write", is_flag=True, help=write_help))


def prisma_choice(schema: Path | None, write: bool) -> api.PrismaOptions | None:
    """What --prisma-schema and --write ask for; usage error for --write alone."""
    if write and schema is None:
        raise click.UsageError("--write needs --prisma-schema")
    return api.PrismaOptions(schema, write) if schema is not None else None


def emit_choice(emit_dir: str | None, layout: str, **settings: Any) -> api.EmitOptions | None:
    """What --emit asks for (None without it); usage error for --layout without --emit."""
    if emit_dir is None:
        if layout != Layout.PGTUNE:
            raise click.UsageError("--layout needs --emit DIR (your tool's migrations folder)")
        return None
    return api.EmitOptions(directory=Path(emit_dir) if emit_dir else None, layout=Layout(layout), **settings)


def wrote(migration_id: str, phases: int, directory: object, layout: str) -> str:
    """The stderr line for a migration written by --emit."""
    return (f"wrote migration {migration_id} ({phases} phases) to {directory}"
            + ("" if layout == Layout.PGTUNE else f" as {layout} migrations"))


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="pgtune")
def cli() -> None:
    """Make a live PostgreSQL fast and keep it safe to change.

    pgtune reads the workload (pg_stat_statements) and the catalog, proposes
    indexes justified by the statements they serve, writes them as phased,
    rollback-safe migrations, applies them without blocking writes, and
    verifies afterwards that the plans changed.

    \b
    Example:
      export DATABASE_URL=postgresql://app@db.internal/app
      pgtune check
      pgtune suggest --emit migrations/2026-11-tuning
      pgtune apply migrations/2026-11-tuning
      pgtune verify migrations/2026-11-tuning
    """


@cli.command()
@dsn_option
@format_option
@handle_errors
def check(dsn: str | None, fmt: str) -> None:
    """Show what the server offers pgtune: version, extensions, privileges.

    Exits 1 when something pgtune needs is missing; each missing piece is one
    line that names the exact fix.

    \b
    Example:
      pgtune check --dsn "host=db.internal dbname=app user=dba"
    """
    with connect(dsn) as conn:
        caps = api.check(conn)
    problems, hints = caps.problems(), caps.hints()
    if fmt == "json":
        emit_json({**caps.as_dict(), "problems": problems, "hints": hints})
    else:
        rows = [
            ["server", caps.server_version],
            ["database", caps.database],
            ["role", caps.role],
            ["pg_stat_statements preloaded", _yn(caps.pgss_preloaded)],
            ["pg_stat_statements installed", _yn(caps.pgss_installed)],
            ["hypopg installed", _yn(caps.hypopg_installed)],
            ["pg_qualstats preloaded", _yn(bool(caps.qualstats_preloaded))],
            ["pg_qualstats installed", _yn(caps.qualstats_installed)],
            ["pg_qualstats sample rate", caps.qualstats_sample_rate or "-"],
            ["pg_qualstats entries", _fill(caps)],
            ["reads all statistics", _yn(caps.reads_all_stats)],
        ]
        click.echo(tabulate(rows, tablefmt="plain"))
        for p in problems:
            click.echo(f"missing: {p}")
        for h in hints:
            click.echo(f"hint: {h}")
    if problems:
        sys.exit(1)


def _fill(caps: Capabilities) -> str:
    """How full pg_qualstats' table is: ``998 of 1,000 (100%, full)``."""
    if caps.qualstats_entries is None or not caps.qualstats_max:
        return "-"
    text = f"{caps.qualstats_entries:,} of {caps.qualstats_max:,} ({caps.qualstats_entries / caps.qualstats_max:.0%}"
    return text + (", full)" if caps.qualstats_full else ")")


def _yn(flag: bool) -> str:
    return style("yes", fg="green") if flag else style("no", fg="red")


@cli.command()
@dsn_option
@format_option
@click.option("--top", default=50, show_default=True, type=click.IntRange(1),
              help="Statements to read, by total execution time.")
@click.option("--min-calls", default=1, show_default=True, type=click.IntRange(0),
              help="Ignore statements called fewer times.")
@click.option("--min-mean-ms", default=0.0, show_default=True, type=click.FloatRange(0),
              help="Ignore statements faster than this on average.")
@click.option("--min-total-ms", default=0.0, show_default=True, type=click.FloatRange(0),
              help="Ignore statements with less total time.")
@click.option("--database", default=None, help="Read this database's statements (default: the connected one).")
@click.option("--exclude", multiple=True, metavar="TABLE", help="Leave out statements on this table (repeatable).")
@click.option("--queries", "queries_file", type=click.File("rb"), default=None,
              help="A .sql file of statements to analyze instead of pg_stat_statements ('-' for stdin).")
@click.option("--role", "as_role", default=None, metavar="ROLE",
              help="With --queries: the role the statements ran as (its search_path and row security apply); "
                   "pg_stat_statements names each statement's own. Default: pgtune's session.")
@click.option("--workload-dsn", multiple=True, metavar="DSN",
              help="Also read pg_stat_statements from this replica; merged by queryid (repeatable).")
@click.option("--min-rows", default=1000, show_default=True, type=click.IntRange(0),
              help="Skip tables with fewer rows than this.")
@click.option("--max-indexes", type=click.IntRange(0), default=None, help="Propose at most this many indexes.")
@click.option("--max-index-mb", type=click.FloatRange(0), default=None,
              help="Propose at most this much index, in MB (a prefix of the selection's steps: see 'curve').")
@click.option("--size-basis", type=click.Choice([b.value for b in SizeBasis]), default=SizeBasis.FORECAST.value,
              show_default=True,
              help="What --max-index-mb and benefit per byte count: pgtune's forecast of the built size, "
                   "or HypoPG's estimate (no deduplication; what other advisors' budgets mean).")
@click.option("--no-hypopg", is_flag=True, help="Heuristic mode even when hypopg is installed.")
@click.option("--trial-dsn", default=None, metavar="DSN",
              help="A copy of this database (staging, a branch, a restore) where GIN candidates are built for real "
                   "in a rolled-back transaction to get the planner's cost (HypoPG cannot make them); without it "
                   "they are only hinted.")
@click.option("--no-index-kinds", is_flag=True, help="B-tree indexes only: no GIN or BRIN candidates.")
@emit_options("Write a phased migration folder (default: migrations/<timestamp>_indexes).",
              "lock_timeout set before each DDL.",
              "statement_timeout for the migration's non-build statements (ANALYZE).")
@click.option("--first-phase-share", default=0.8, show_default=True, type=click.FloatRange(0.0, 1.0),
              help="Phase 1 gets the indexes that remove this share of the saved cost (1.0: one phase).")
@click.option("--measure/--no-measure", "--analyze/--no-analyze", "analyze", default=True, show_default=True,
              help="With --emit: time each read-only targeted statement (with the values it is planned with; "
                   "best of 3 runs, 10 s each, 60 s in all) as verify's baseline; else verify compares "
                   "planner costs only.")
@layout_option
@click.option("--no-constraints", is_flag=True, help="Do not propose CHECK constraints.")
@click.option("--constraints", "with_constraints", is_flag=True,
              help="With --emit: also write the proposed CHECK constraints (listed in the output either way).")
@click.option("--constraint-timeout", default="10s", show_default=True, type=DURATION,
              help="statement_timeout for each query that proves a CHECK constraint on the data.")
@prisma_options("Map each proposal to this schema.prisma (or schema folder): the @@index lines to add, or why "
                "Prisma cannot hold it.",
                "With --prisma-schema: add the lines to the file in place (the rest stays byte for byte).")
@handle_errors
def suggest(dsn: str | None, fmt: str, top: int, min_calls: int, min_mean_ms: float, min_total_ms: float,
            database: str | None, exclude: tuple[str, ...], queries_file: Any, as_role: str | None,
            workload_dsn: tuple[str, ...],
            min_rows: int, max_indexes: int | None, max_index_mb: float | None, size_basis: str, no_hypopg: bool,
            trial_dsn: str | None, no_index_kinds: bool,
            emit_dir: str | None, lock_timeout: str, statement_timeout: str, first_phase_share: float,
            analyze: bool, layout: str, no_constraints: bool, with_constraints: bool, constraint_timeout: str,
            prisma_schema: Path | None, write: bool) -> None:
    """Propose indexes for the statements in pg_stat_statements.

    Every proposal names the statements it serves; with hypopg installed its
    planner cost before/after comes from hypothetical indexes, and only the
    indexes the planner actually uses are proposed.

    \b
    Example:
      pgtune suggest --top 100 --min-calls 10
      pgtune suggest --max-index-mb 500
      pgtune suggest --format json > advice.json
      pgtune suggest --queries slow.sql --exclude audit_log
      pgtune suggest --queries slow.sql --role app_user
      pgtune suggest --workload-dsn "host=replica1 dbname=app" --emit
      pgtune suggest --emit --constraints
      pgtune suggest --prisma-schema prisma/schema.prisma --write
    """
    prisma = prisma_choice(prisma_schema, write)
    if as_role is not None and queries_file is None:
        raise click.UsageError("--role needs --queries (pg_stat_statements records each statement's role)")
    if with_constraints and (emit_dir is None or no_constraints):
        raise click.UsageError("--constraints needs --emit (and not --no-constraints)")
    options = api.SuggestOptions(
        indexes=Options(workload=WorkloadFilter(top=top, min_calls=min_calls, min_mean_ms=min_mean_ms,
                                                min_total_ms=min_total_ms, database=database),
                        min_rows=min_rows, max_indexes=max_indexes, max_index_mb=max_index_mb,
                        size_basis=SizeBasis(size_basis), exclude=exclude,
                        use_hypopg=False if no_hypopg else None),
        constraints=not no_constraints, constraint_timeout_ms=to_ms(constraint_timeout),
        index_kinds=not no_index_kinds)
    emit = emit_choice(emit_dir, layout, lock_timeout=lock_timeout, statement_timeout=statement_timeout,
                       first_phase_share=first_phase_share, measure=analyze, constraints=with_constraints)
    statements = None
    if queries_file is not None:
        statements = read_queries_file(decode_queries(queries_file.read(), getattr(queries_file, "name", "-")))
    with connect(dsn) as conn, _replicas(workload_dsn if statements is None else ()) as replicas, \
            _replicas((trial_dsn,) if trial_dsn else ()) as trials:
        result = api.suggest(conn, options, statements=statements, replicas=replicas, emit=emit, progress=progress,
                             prisma=prisma, role=as_role, trial=trials[0] if trials else None)
    if result.migration is not None:
        click.echo(wrote(result.migration.id, len(result.migration.phases), result.directory, layout), err=True)
        if layout == Layout.PRISMA:
            click.echo("prisma: a failed concurrent build leaves its migration failed: drop the INVALID index, "
                       "then `npx prisma migrate resolve --rolled-back <folder>` (see the file's comments)", err=True)
    advice, checks = result.indexes, result.constraints
    if fmt == "json":
        emit_json(result.as_dict())
        return
    _print_advice(advice)
    _print_constraints(checks, left_out=result.migration is not None and not with_constraints)
    if result.prisma is not None:
        _print_prisma(result.prisma)


def _print_prisma(advice: PrismaAdvice) -> None:
    if not advice.proposals:
        return
    click.echo(f"\nPrisma ({advice.schema_path}{', written' if advice.written else ''}):")
    for p in advice.proposals:
        where = f"model {p.model}" if p.model else "no model"
        if p.fit == Fit.REMOVE:
            click.echo(f"  {where}: {p.name}: {p.note}")
        elif p.line:
            done = " (added)" if p.written else ""
            click.echo(f"  {where}: {p.line}{done}" + (f"  -- {p.note}" if p.note else ""))
        else:
            click.echo(f"  {where}: {p.name}: {p.note}")


@contextlib.contextmanager
def _replicas(dsns: tuple[str, ...]) -> Iterator[list[psycopg.Connection[Any]]]:
    """Connections to the replicas whose pg_stat_statements are merged in, closed whatever happens."""
    conns: list[psycopg.Connection[Any]] = []
    try:
        for d in dsns:
            conns.append(connect(d))
        yield conns
    finally:
        for c in conns:
            c.close()


def _print_constraints(checks: ConstraintAdvice, left_out: bool = False) -> None:
    """The proposals; ``left_out``: a migration was written without them (no --constraints)."""
    if checks.constraints:
        click.echo("")
        click.echo(tabulate([[c.name, f"{c.schema}.{c.table}", c.kind, c.check, c.confidence]
                             for c in checks.constraints],
                            headers=["CHECK constraint", "table", "kind", "check", "confidence"]))
        if left_out:
            click.echo("CHECK constraints are not in the migration: review them, then emit with --constraints")
    for note in checks.notes:
        click.echo(f"note: {note}")
    for f in checks.findings:
        more = "+" if f.bounded else ""
        click.echo(f"data quality: {f.schema}.{f.table} has {f.violations}{more} rows breaking {f.check} "
                   f"(e.g. {'; '.join(f.examples)})")
    for sk in checks.unproven:
        click.echo(f"not proven: {sk.kind} on {sk.table}.{', '.join(sk.columns)}: {sk.reason}")


def _print_curve(advice: Advice) -> None:
    """Where the chosen set sits on the size/cost curve, and the knee a DBA may prefer."""
    if len(advice.curve) < 2:
        return
    start, end = advice.curve[0], advice.curve[-1]
    chosen = [p for p in advice.curve if p.chosen][-1]

    def point(p: CurvePoint) -> str:
        return (f"step {p.step}: {p.forecast_bytes / 1048576:,.1f} MB, cost {p.cost / start.cost:.1%} "
                f"of no new index")

    click.echo(f"selection: {len(advice.curve) - 1} steps ({advice.what_if_calls} what-if plans); "
               f"chosen {point(chosen)}")
    knee = advice.knee
    if knee is not None and knee.step != chosen.step:
        click.echo(f"  knee of the curve: {point(knee)} (suggest --max-index-mb "
                   f"{math.ceil(knee.forecast_bytes / 1048576)})")
    if end.step != chosen.step:
        click.echo(f"  all steps: {point(end)}; --format json lists the curve")


def _print_headline(advice: Advice) -> None:
    """Σ calls × cost with the values the workload runs with; statements with a $n left generic apart."""
    before, after = advice.valued_cost(before=True), advice.valued_cost(before=False)
    if before and after:
        click.echo(f"workload cost (calls x plan cost): {before:,.0f} -> {after:,.0f} ({before / after:.1f}x)")
    generic = advice.generic_statements
    g_before, g_after = advice.generic_cost(before=True), advice.generic_cost(before=False)
    if generic and g_before and g_after:
        click.echo(f"  apart: {len(generic)} statement{'s' if len(generic) != 1 else ''} planned with a $n "
                   f"no rule gives a value (generic there): {g_before:,.0f} -> {g_after:,.0f}")


def _print_statistics(advice: Advice) -> None:
    """CREATE STATISTICS proposals: the estimate they fix and the plan they change."""
    for st in advice.statistics:
        click.echo("")
        click.echo(f"statistics {st.schema}.{st.name}: {st.reason}")
        click.echo(f"  estimate {st.estimate_before:,.0f} -> {st.estimate_after:,.0f} rows "
                   f"(sampled: {st.sampled_rows:,.0f})")
        click.echo(f"{st.create};")
        click.echo(f"{st.analyze};")


def _print_advice(advice: Advice) -> None:
    if not advice.indexes:
        click.echo("no index to suggest: the workload is already served.")
    rows = []
    for ix in advice.indexes:
        gain = ""
        if ix.cost_before and ix.cost_after:
            gain = f"{ix.cost_before / ix.cost_after:.1f}x"
        size = f"{ix.forecast_bytes / 1048576:.1f} MB" if ix.forecast_bytes else ""
        exprs = ix.expressions or [None] * len(ix.columns)
        keys = ", ".join((e or c) + (" DESC" if d else "")
                         for c, e, d in zip(ix.columns, exprs, ix.descending, strict=False))
        if ix.include:
            keys += f" INCLUDE {', '.join(ix.include)}"
        if ix.where:
            keys += f" WHERE {ix.where}"
        rows.append([ix.name, f"{ix.schema}.{ix.table}", keys, len(ix.queries), gain, size, ix.reason])
    if rows:
        click.echo(tabulate(rows, headers=["index", "table", "columns", "stmts", "cost cut", "size (forecast)",
                                           "why"]))
        click.echo("")
        for ix in advice.indexes:
            click.echo(ix.ddl + ";")
    _print_statistics(advice)
    click.echo("")
    click.echo(f"method: {advice.method}")
    _print_headline(advice)
    _print_curve(advice)
    for h in advice.hints:
        click.echo(f"hint: {h}")
    for st in advice.statements:
        for note in st.notes:
            click.echo(f"note: queryid {st.queryid}: {note}")
    if advice.skipped:
        kinds: dict[str, int] = {}
        for sk in advice.skipped:
            kinds[sk.kind] = kinds.get(sk.kind, 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
        click.echo(f"skipped {len(advice.skipped)} statements ({summary}); --format json lists them all")
        for sk in [s for s in advice.skipped if s.kind != SkipKind.UTILITY][:5]:
            click.echo(f"  {one_line(sk.query, 50)}: {one_line(sk.reason, 100)}")


migration_dir = click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
wait_for_transactions_option = click.option(
    "--wait-for-transactions", default=300.0, show_default=True, type=click.FloatRange(0), metavar="SECONDS",
    help="Before each concurrent build, REINDEX or drop: how long to wait for the transactions it would wait for "
         "(open over 5 s, named with pid, age and query on stderr); still open then, the step is not started and "
         "apply stops, naming them. During a build, its waits for other transactions (which block nobody) are cut "
         "only past this much in all; a wait on a table lock is cut at lock_timeout.")


@cli.command()
@migration_dir
@dsn_option
@format_option
@click.option("--phase", type=int, default=None, help="Apply only this phase.")
@click.option("--through", type=int, default=None, help="Apply phases up to and including this one.")
@click.option("--dry-run", is_flag=True, help="Show what would run; change nothing.")
@click.option("--retries", default=5, show_default=True, type=click.IntRange(0),
              help="Retries after a lock timeout (backoff 1s, 2s, 4s…).")
@click.option("--wait", default=60.0, show_default=True, type=click.FloatRange(0),
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
    with connect(dsn) as conn:
        # Build progress needs a second connection; open it only for a person watching.
        monitor = resolve_dsn(dsn) if _stderr_is_tty() else None
        report = api.apply(conn, directory, phase=phase, through=through, dry_run=dry_run, retries=retries,
                           wait=wait, progress=progress, monitor_dsn=monitor,
                           wait_for_transactions=wait_for_transactions)
    _print_report(report, fmt, "apply")


@cli.command()
@migration_dir
@dsn_option
@format_option
@click.option("--phase", type=click.IntRange(1), default=None, help="Roll back only this phase.")
@click.option("--wait", default=60.0, show_default=True, type=click.FloatRange(0),
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
    with connect(dsn) as conn:
        report = api.rollback(conn, directory, phase=phase, wait=wait, progress=progress,
                              wait_for_transactions=wait_for_transactions, force=force)
    _print_report(report, fmt, "rollback")


def _print_report(report: api.Report, fmt: str, verb: str) -> None:
    if fmt == "json":
        emit_json(report.as_dict())
        return
    for w in report.warnings:
        click.echo(f"warning: {w}", err=True)
    if report.steps:
        click.echo(tabulate([[s.phase, s.status, one_line(s.statement), s.note] for s in report.steps],
                            headers=["phase", "status", "statement", "note"]))
    if not report.phases_run and not any(s.status == Outcome.WOULD_RUN for s in report.steps):
        click.echo(f"{verb}: nothing to do ({report.migration_id})")
    else:
        click.echo(f"{verb}: {report.migration_id}: phases run {report.phases_run or '-'}, "
                   f"skipped {report.phases_skipped or '-'}")


@cli.command()
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
    with connect(dsn) as conn:
        st = api.status(conn, directory)
    if fmt == "json":
        emit_json(st.as_dict())
    else:
        click.echo(tabulate([[p.number, p.name, p.state, ", ".join(p.missing) or "-", ", ".join(p.invalid) or "-",
                              _sizes(p.sizes)] for p in st.phases],
                            headers=["phase", "name", "state", "missing", "invalid", "index MB (forecast → real)"]))
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
    if not st.ok:
        sys.exit(1)


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


_VERDICT_MARK = {api.Verdict.OK: ("ok", "green"), api.Verdict.NIL_GAIN: ("nil", "yellow"),
                 api.Verdict.FAIL: ("FAIL", "red")}


def _render_verification(result: api.Verification, analyze: bool) -> None:
    """verify's table, then each failure's reason, then what the timings say."""
    rows = []
    for t in result.targets:
        text, colour = _VERDICT_MARK[t.verdict]
        row = [style(text, fg=colour), t.queryid if t.queryid is not None else "-", t.name,
               ", ".join(t.used) or "-", _x(t.predicted_ratio), _x(t.ratio)]
        if analyze:
            row += [_x(t.measured_ratio), f"{t.baseline_ms:.2f}" if t.baseline_ms is not None else "-",
                    f"{t.ms:.2f}" if t.ms is not None else "-"]
        change = ""
        if t.scans_before and t.scans_before != t.scans_now:
            change = f"plan was: {one_line(', '.join(t.scans_before), 60)}"
        rows.append([*row, one_line("; ".join(x for x in (t.problem, t.note, change) if x), 100)])
    headers = ["", "queryid", "statement", "index used", "predicted", "cost cut"]
    headers += ["time cut", "ms before", "ms now"] if analyze else []
    click.echo(tabulate(rows, headers=[*headers, "problem / note"], disable_numparse=True))
    for t in result.failures:
        click.echo(f"FAIL {t.name} (queryid {t.queryid}): {t.problem}")
    for name in result.unused_indexes:
        why = f" (planned at emit: {result.planned_for[name]})" if name in result.planned_for else ""
        click.echo(f"note: planned index {name} is used by no targeted statement{why}")
    real = {s.name: s.real_bytes for s in result.sizes}
    for name in result.nil_gain_indexes:
        built = real.get(name)
        size = f" ({built / 1048576:,.1f} MB)" if built else ""
        click.echo(f"note: index {name}{size}: measured gain nil on every statement timed on it")
    for table in result.stale_statistics:
        click.echo(f"note: statistics of {table} predate its new index: run ANALYZE {table}")
    if result.sizes:
        click.echo(f"indexes: {_sizes(result.sizes)} MB (forecast at emit → on disk now)")
    if analyze:
        _render_timings(result)


def _render_timings(result: api.Verification) -> None:
    timed = [t for t in result.targets if t.baseline_ms is not None]
    cold = sum(bool(t.baseline_read_blocks) for t in timed)
    click.echo(f"baseline: timed at emit for {len(timed)} of {len(result.targets)} statements"
               + (f" ({cold} of them read from disk)" if cold else "")
               + (f"; planner cost only for {len(result.targets) - len(timed)}" if len(timed) < len(result.targets)
                  else ""))
    click.echo(f"measured {result.measured} of {len(result.targets)} statements now; {result.agreement()}")
    for t in result.targets:
        if t.disagreement:
            click.echo(f"  {t.name}: {t.disagreement}")


def _x(ratio: float | None) -> str:
    return f"{ratio:,.1f}x" if ratio else ""


def _sizes(sizes: list[IndexSize]) -> str:
    """``38.2 → 40.1``: the phase's indexes as forecast at emit and as built now."""
    if not sizes:
        return "-"
    forecast = sum(s.forecast_bytes or 0 for s in sizes) / 1048576
    if all(s.real_bytes is None for s in sizes):
        return f"{forecast:,.1f} → not built"
    return f"{forecast:,.1f} → {sum(s.real_bytes or 0 for s in sizes) / 1048576:,.1f}"


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), required=False)
@dsn_option
@format_option
@click.option("--tolerance", default=0.10, show_default=True, help="Allowed cost increase over baseline.")
@click.option("--time-tolerance", default=0.25, show_default=True, type=click.FloatRange(0),
              help="With --analyze: allowed measured slowdown over the time measured at emit "
                   "(and always more than 1 ms).")
@click.option("--measure", "--analyze", "analyze", is_flag=True,
              help="Also measure: EXPLAIN (ANALYZE, BUFFERS) of read-only statements, in a READ ONLY "
                   "transaction that is rolled back. Statements that could write, or that call code not "
                   "PostgreSQL's own (functions, operators, casts, through views too), are never run.")
@click.option("--trust-functions", is_flag=True,
              help="With --analyze: also run statements that call non-VOLATILE user-defined functions "
                   "(their labels are trusted; a function that writes through dblink would write).")
@click.option("--statement-timeout", default="30s", show_default=True, type=DURATION,
              help="statement_timeout for each statement verify plans or measures.")
@click.option("--junit", "junit_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write a JUnit XML report here (for CI).")
@click.option("--window", type=click.FloatRange(0, min_open=True), default=None, metavar="SECONDS",
              help="A config migration: read the statistics twice, this far apart, while the load runs (default: "
                   "since their reset).")
@click.option("--query", "adhoc", default=None, help="Check one statement instead of a migration folder.")
@click.option("--expect-index", multiple=True, metavar="NAME", help="With --query: an index it must use.")
@handle_errors
def verify(directory: Path | None, dsn: str | None, fmt: str, tolerance: float, time_tolerance: float, analyze: bool,
           trust_functions: bool, statement_timeout: str, junit_file: Path | None, window: float | None,
           adhoc: str | None, expect_index: tuple[str, ...]) -> None:
    """Re-plan the targeted statements and check they use the new indexes.

    Exits 1 when a statement does not use any index built for it, its
    planner cost rose above its baseline by more than the tolerance, or (with
    --analyze) it ran slower than at emit by more than the time tolerance.

    \b
    Example:
      pgtune verify migrations/2026-11-tuning
      pgtune verify migrations/2026-11-tuning --analyze --junit verify.xml
      pgtune verify --query "SELECT * FROM orders WHERE \"userId\" = 42" --expect-index orders_userId_idx
    """
    if expect_index and adhoc is None:
        raise click.UsageError("--expect-index goes with --query")
    if (directory is None) == (adhoc is None):
        raise click.UsageError("give either a migration DIRECTORY or --query SQL (exactly one of them)")
    if junit_file is not None:
        check_report_path(junit_file)
    if directory is not None and api.is_config_migration(directory):
        with connect(dsn) as conn:
            checked = api.config_verify(conn, directory, window_s=window)
        _print_config_verify(checked, fmt)
        return
    with connect(dsn) as conn:
        if adhoc is not None:
            result = api.verify_query(conn, adhoc, list(expect_index), measure=analyze,
                                      timeout_ms=to_ms(statement_timeout), trust_functions=trust_functions)
        else:
            assert directory is not None
            result = api.verify(conn, directory, tolerance=tolerance, measure=analyze,
                                timeout_ms=to_ms(statement_timeout), trust_functions=trust_functions,
                                time_tolerance=time_tolerance)
    if junit_file is not None:
        junit(result, junit_file)
    if fmt == "json":
        emit_json(result.as_dict())
    else:
        _render_verification(result, analyze)
    if not result.ok:
        sys.exit(1)


@cli.command()
@dsn_option
@format_option
@click.option("--fail-on", type=click.Choice(["error", "warning", "info", "never"]), default="warning",
              show_default=True, help="Exit 1 when a finding is at least this severe.")
@click.option("--check", "only", multiple=True, metavar="ID", help="Run only this check (repeatable).")
@click.option("--skip", multiple=True, metavar="ID", help="Leave this check out (repeatable).")
@click.option("--workload-dsn", multiple=True, metavar="DSN",
              help="A replica whose index scans count too: an index read only there is not unused (repeatable).")
@click.option("--min-stats-age", default="7d", show_default=True, type=DURATION,
              help="unused-index runs only when every server's statistics have counted this long (7d, 12h, 0).")
@click.option("--min-rows", default=1000, show_default=True, type=click.IntRange(0),
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
      pgtune health --emit migrations/health && pgtune apply migrations/health
      pgtune health --emit prisma/migrations --layout prisma
    """
    prisma = prisma_choice(prisma_schema, write)
    emit = emit_choice(emit_dir, layout, lock_timeout=lock_timeout, statement_timeout=statement_timeout,
                       measure=measure)
    with connect(dsn) as conn, _replicas(workload_dsn) as replicas:
        report = api.health(conn, only=only, skip=skip, replicas=replicas,
                            min_stats_age_s=to_ms(min_stats_age, "--min-stats-age") / 1000, emit=emit,
                            min_rows=min_rows, prisma=prisma)
    if report.migration is not None:
        m = report.migration
        click.echo(wrote(m.id, len(m.phases), m.directory, layout) if m.phases
                   else "nothing to migrate: no finding has a fix a migration can carry", err=True)
        for line in m.left_out:
            click.echo(f"not in the migration: {line}", err=True)
    if fmt == "json":
        emit_json(report.as_dict())
    elif not report.findings:
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
            _print_prisma(report.prisma)
        fixes = [s for f in report.findings for s in f.fix]
        if fixes and report.migration is None:
            click.echo("\nfix (review before running; docs/checks/<check>.md explains each):")
            for stmt in fixes:
                click.echo(f"  {stmt};")
    if report.fails(None if fail_on == "never" else Severity(fail_on)):
        sys.exit(1)


class _Size(click.ParamType[int]):
    """A memory size (``16GB``, ``512MB``), in bytes."""

    name = "SIZE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_size(str(value), "--memory")
        except PgtuneError:
            self.fail(f"{value!r} is not a size: use e.g. 16GB, 512MB", param, ctx)


@cli.command()
@dsn_option
@format_option
@click.option("--window", type=click.FloatRange(0, min_open=True), default=None, metavar="SECONDS",
              help="Read the statistics twice, this far apart, and judge what happened between (default: since "
                   "their last reset).")
@click.option("--memory", type=_Size(), default=None,
              help="The server's memory (default: read from its host when pgtune runs there, cgroup limit first).")
@click.option("--cpus", type=click.IntRange(1), default=None, help="The server's CPUs (default: from its host).")
@click.option("--storage", type=click.Choice([s.value for s in ConfigStorage]), default=None,
              help="What the data lives on (default: the data directory's device, when on the host).")
@click.option("--pooler/--no-pooler", default=None,
              help="Whether a connection pooler holds the server's connections (default: told from application_name "
                   "and DISCARD ALL); sizes max_connections.")
@click.option("--profile", type=click.Choice([p.value for p in Profile]), default=None,
              help="A new server with no history: print settings for this workload from documented formulas "
                   "(needs --memory; no connection).")
@click.option("--connections", type=click.IntRange(1), default=None,
              help="With --profile: max_connections (default: PGTune's for the profile).")
@click.option("--as", "output", type=click.Choice(["conf", "alter-system"]), default="conf", show_default=True,
              help="With --profile: postgresql.conf lines or ALTER SYSTEM statements.")
@click.option("--server-version", type=click.IntRange(90600), default=150000, show_default=True,
              help="With --profile: the server_version_num the settings are for.")
@click.option("--emit", "emit_dir", is_flag=False, flag_value="", default=None, metavar="[DIR]",
              help="Write the proposals as a migration folder (default: migrations/<timestamp>_config): role and "
                   "table settings, then reload, then restart; apply, status, verify and rollback work on it.")
@click.option("--lock-timeout", default="5s", show_default=True, type=DURATION,
              help="With --emit: lock_timeout for ALTER TABLE … SET (…).")
@click.option("--statement-timeout", default="1min", show_default=True, type=DURATION,
              help="With --emit: statement_timeout of the migration's statements.")
@handle_errors
def config(dsn: str | None, fmt: str, window: float | None, memory: int | None, cpus: int | None,
           storage: str | None, pooler: bool | None, profile: str | None, connections: int | None, output: str,
           server_version: int, emit_dir: str | None, lock_timeout: str, statement_timeout: str) -> None:
    """Propose server settings from what the server actually does, with the evidence for each.

    Reads pg_settings and the statistics that show a setting is wrong
    (temporary files, requested checkpoints, dead tuples, HOT updates,
    sessions, JIT time) and proposes each change at its narrowest scope: a
    role, a table, the server with a reload, the server with a restart
    (written, never restarted). A memory budget refuses a set that could run
    the server out of memory (exit 1). On a managed platform the server-wide
    changes are printed as the platform's own commands.

    \b
    Example:
      pgtune config
      pgtune config --window 300 --format json > settings.json
      pgtune config --memory 16GB --cpus 8 --storage ssd --emit migrations/settings
      pgtune apply migrations/settings && pgtune status migrations/settings
      pgtune config --profile oltp --memory 32GB --cpus 8 --storage ssd --as alter-system
    """
    if profile is not None:
        if memory is None:
            raise click.UsageError("--profile needs --memory (and --cpus, --storage for parallel and I/O settings)")
        cfg = api.config_profile(Profile(profile), memory, cpus=cpus,
                                 storage=ConfigStorage(storage or "ssd"), connections=connections,
                                 server_version_num=server_version)
        _print_profile(cfg, fmt, output)
        return
    emit = None
    if emit_dir is not None:
        emit = api.EmitOptions(directory=Path(emit_dir) if emit_dir else None, lock_timeout=lock_timeout,
                               statement_timeout=statement_timeout, slug="config")
    options = api.ConfigOptions(window_s=window, memory=memory, cpus=cpus,
                                storage=ConfigStorage(storage) if storage else None, pooler=pooler)
    with connect(dsn) as conn:
        report = api.config(conn, options, emit=emit)
    if report.migration is not None:
        m = report.migration
        click.echo(f"wrote migration {m['id']} ({len(m['phases'])} phases) to {m['directory']}" if m["phases"]
                   else "nothing to migrate: no proposal" if not m["platform_changes"]
                   else "nothing this role may migrate", err=True)
        if m["platform_changes"]:
            click.echo(f"wrote the platform's commands for the server-wide settings to {m['platform_changes']} "
                       "(pgtune apply does not run them)", err=True)
    if fmt == "json":
        emit_json(report.as_dict())
    else:
        _print_config(report)
    if report.budget is not None and not report.budget.ok:
        sys.exit(1)


def _print_config_verify(checked: Any, fmt: str) -> None:
    """Per setting of a config migration: did its symptom go away over the period read?"""
    if fmt == "json":
        emit_json(checked.as_dict())
    else:
        rows = [[style("ok", fg="green") if c.ok else style("FAIL", fg="red"), c.target, c.name, c.symptom,
                 c.outcome, one_line(json.dumps(c.now, default=str), 70), c.note] for c in checked.checks]
        click.echo(tabulate(rows, headers=["", "where", "setting", "symptom", "outcome", "now", "note"],
                            disable_numparse=True))
        p = checked.period
        click.echo(f"period: {p['seconds']:,} s since {p['since']}" + (" (window)" if p["window"] else ""))
    if not checked.ok:
        sys.exit(1)


def _print_profile(cfg: Any, fmt: str, output: str) -> None:
    if fmt == "json":
        emit_json(cfg.as_dict())
    else:
        click.echo(cfg.conf() if output == "conf" else cfg.alter_system(), nl=False)
        click.echo(f"{'#' if output == 'conf' else '--'} memory budget: {cfg.budget.message}")
        if not cfg.budget.ok:
            click.echo("pgtune: refused: fewer --connections (put a pooler in front) or more --memory", err=True)
    if not cfg.budget.ok:
        sys.exit(1)


def _print_config(report: Any) -> None:
    if report.proposals:
        click.echo(tabulate([[p.scope, p.target, p.setting, f"{p.current if p.current is not None else '-'} "
                              f"({p.source})", p.value, one_line(p.why, 90)] for p in report.proposals],
                            headers=["scope", "where", "setting", "now (source)", "proposed", "why"],
                            disable_numparse=True))
    else:
        click.echo("no setting to change: the statistics show no symptom a setting fixes")
    for a in report.advice:
        click.echo(f"\nadvice: {a.title}: {a.why}")
        for line in a.what_changes:
            click.echo(f"  - {line}")
    if report.budget is not None:
        click.echo(f"\nmemory budget: {report.budget.message}")
    for line in report.platform_changes:
        click.echo(f"platform: {line}")
    for note in report.notes:
        click.echo(f"note: {note}")
    click.echo(f"period: {report.period['seconds']:,} s since {report.period['since']}"
               + (" (window)" if report.period["window"] else " (the statistics' reset)"))


@cli.command()
@click.option("--keep", is_flag=True, help="Leave the server running and print its DSN.")
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(0.01, 20),
              help="Data size factor (1.0 is about 1M rows).")
@handle_errors
def demo(keep: bool, scale: float) -> None:
    """Run the whole loop on a throwaway local PostgreSQL.

    Starts a cluster from the local server binaries, loads a video-platform
    schema (~1M rows), runs a typical workload, then suggest -> emit -> apply
    -> verify, and prints per statement the planner cost and measured time
    before and after.

    \b
    Example:
      pgtune demo
      pgtune demo --keep      # then: psql "<printed DSN>"
    """
    from .demo.runner import run_demo
    run_demo(keep=keep, scale=scale, echo=click.echo, progress=lambda m: click.echo(f"… {m}", err=True))


def main() -> None:
    cli()
