"""pgtune suggest: the indexes, statistics and CHECK constraints the workload asks for, and their migration."""

from __future__ import annotations

import difflib
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import psycopg
from tabulate import tabulate

from .. import catalog_sql
from .._text import one_line
from ..connect import connect
from ..duration import to_ms
from ..errors import InputError
from .shell import (
    DURATION,
    Format,
    InputFile,
    LazyChoice,
    Number,
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
    progress,
    render_prisma,
    wrote,
)

if TYPE_CHECKING:
    from .. import api, ddl
    from ..analyze import Advice, CurvePoint, IndexSuggestion, Options, SizeBasis, SkipKind
    from ..capture import Statement, WorkloadFilter
    from ..capture.stream import FILE_TOP, read_queries
    from ..constraints import ConstraintAdvice
    from ..plan import Layout, timeouts


def _library() -> None:
    """The library this command runs, imported once its options are parsed: a usage error answers before it
    loads (c20: `suggest --format nope` took 1.8 s)."""
    global api, Advice, CurvePoint, IndexSuggestion, Options, SizeBasis, SkipKind, Statement, WorkloadFilter
    global FILE_TOP, read_queries, ConstraintAdvice, Layout, timeouts, ddl
    from .. import api, ddl
    from ..analyze import Advice, CurvePoint, IndexSuggestion, Options, SizeBasis, SkipKind
    from ..capture import Statement, WorkloadFilter
    from ..capture.stream import FILE_TOP, read_queries
    from ..constraints import ConstraintAdvice
    from ..plan import Layout, timeouts


def _size_bases() -> list[str]:
    from ..analyze import SizeBasis
    return [b.value for b in SizeBasis]


@click.command()
@dsn_option
@format_option
@click.option("--top", default=50, show_default=True, type=Whole(1),
              help="Statements to read from pg_stat_statements, by total execution time. A --queries file is "
                   "read whole, its statements folded by shape, and the shapes seen most often analyzed: this many "
                   "when given, else 500; the rest are counted.")
@click.option("--min-calls", default=1, show_default=True, type=Whole(0),
              help="Ignore statements called fewer times.")
@click.option("--min-mean-ms", default=0.0, show_default=True, type=Number(0),
              help="Ignore statements faster than this on average.")
@click.option("--min-total-ms", default=0.0, show_default=True, type=Number(0),
              help="Ignore statements with less total time.")
@click.option("--database", default=None, help="Read this database's statements (default: the connected one).")
@click.option("--workload-role", "workload_roles", multiple=True, metavar="ROLE",
              help="Only these roles' statements are the workload (repeatable). Default: every role's, except a "
                   "superuser's beside the application's own roles (a person in psql, not the application).")
@click.option("--exclude", multiple=True, metavar="TABLE",
              help="Leave out statements on this table, by name or schema.name (repeatable). A name no table or "
                   "view has is refused (exit 2, with the nearest name); one no statement reads is noted.")
@click.option("--queries", "queries_file", type=InputFile("rb"), default=None,
              help="A .sql file of statements to analyze instead of pg_stat_statements ('-' for stdin); one with "
                   "no statement is refused (exit 2).")
@click.option("--role", "as_role", default=None, metavar="ROLE",
              help="With --queries: the role the statements ran as (its search_path and row security apply); "
                   "pg_stat_statements names each statement's own. Default: pgtune's session.")
@click.option("--workload-dsn", multiple=True, metavar="DSN",
              help="Also read pg_stat_statements and pg_qualstats' constants from this replica; merged by queryid "
                   "(repeatable).")
@click.option("--min-rows", default=1000, show_default=True, type=Whole(0),
              help="Skip tables with fewer rows than this.")
@click.option("--max-indexes", type=Whole(0), default=None, help="Propose at most this many indexes.")
@click.option("--max-index-mb", type=Number(0), default=None,
              help="Propose at most this much index, in MB (the last point of the selection's 'curve' that "
                   "fits, then later steps that fit in what it leaves).")
@click.option("--size-basis", type=LazyChoice(_size_bases, "forecast"), default="forecast",
              show_default=True,
              help="What --max-index-mb and benefit per byte count: pgtune's forecast of the built size, "
                   "or HypoPG's estimate (no deduplication; what other advisors' budgets mean).")
@click.option("--jobs", type=Whole(1), default=None,
              help="What-if sessions planning side by side (default: the server's cores, but the one pgtune takes "
                   "when the server runs on this machine, at most 8; never more than a tenth of the connections the "
                   "server still accepts; behind a session pooler, one). The advice is the same for any number.")
@click.option("--no-hypopg", is_flag=True, help="Heuristic mode even when hypopg is installed.")
@click.option("--trial-dsn", default=None, metavar="DSN",
              help="A copy of this database (staging, a branch, a restore) where GIN candidates are built for real "
                   "in a rolled-back transaction to get the planner's cost (HypoPG cannot make them); without it "
                   "they are built on a bounded sample of the table in a temporary table of pgtune's session.")
@click.option("--no-index-kinds", is_flag=True, help="B-tree indexes only: no GIN or BRIN candidates.")
@emit_options("Write a phased migration folder (default: migrations/<timestamp>_indexes).",
              "With --emit: lock_timeout set before each DDL.",
              "With --emit: statement_timeout for the migration's non-build statements (ANALYZE).")
@click.option("--first-phase-share", default=0.8, show_default=True, type=Number(0.0, 1.0),
              help="With --emit: phase 1 gets the indexes that remove this share of the saved cost (without "
                   "HypoPG: of the calls served; 1.0: one phase).")
@click.option("--measure/--no-measure", "--analyze/--no-analyze", "analyze", default=True, show_default=True,
              help="With --emit: time each read-only targeted statement (with the values it is planned with; "
                   "best of 3-7 runs, 10 s each, 60 s in all) as verify's baseline; else verify compares "
                   "planner costs only.")
@click.option("--keep-redundant", is_flag=True,
              help="With --emit: keep the existing indexes a new one makes redundant (by default the last phase "
                   "drops them, once the new index is valid, under health's guards; rollback builds them again).")
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
            database: str | None, workload_roles: tuple[str, ...], exclude: tuple[str, ...], queries_file: Any,
            as_role: str | None, workload_dsn: tuple[str, ...], jobs: int | None,
            min_rows: int, max_indexes: int | None, max_index_mb: float | None, size_basis: str, no_hypopg: bool,
            trial_dsn: str | None, no_index_kinds: bool,
            emit_dir: str | None, lock_timeout: str, statement_timeout: str, first_phase_share: float,
            analyze: bool, keep_redundant: bool, layout: str, no_constraints: bool, with_constraints: bool,
            constraint_timeout: str,
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
      pgtune suggest --workload-role app_user --workload-role app_worker
      pgtune suggest --workload-dsn "host=replica1 dbname=app" --emit
      pgtune suggest --emit --constraints
      pgtune suggest --prisma-schema prisma/schema.prisma --write
    """
    prisma = prisma_choice(prisma_schema, write)
    if as_role is not None and queries_file is None:
        raise click.UsageError("--role needs --queries (pg_stat_statements records each statement's role)")
    if with_constraints and (emit_dir is None or no_constraints):
        raise click.UsageError("--constraints needs --emit (and not --no-constraints)")
    emit = emit_choice(emit_dir, layout, lock_timeout=lock_timeout, statement_timeout=statement_timeout,
                       first_phase_share=first_phase_share, measure=analyze, constraints=with_constraints,
                       drop_replaced=not keep_redundant)
    _library()
    options = api.SuggestOptions(
        indexes=Options(workload=WorkloadFilter(top=top, min_calls=min_calls, min_mean_ms=min_mean_ms,
                                                min_total_ms=min_total_ms, database=database,
                                                roles=workload_roles),
                        min_rows=min_rows, max_indexes=max_indexes, max_index_mb=max_index_mb,
                        size_basis=SizeBasis(size_basis), exclude=exclude,
                        use_hypopg=False if no_hypopg else None, jobs=jobs),
        constraints=not no_constraints, constraint_timeout_ms=to_ms(constraint_timeout),
        index_kinds=not no_index_kinds)
    statements = None if queries_file is None else _read_file(queries_file, top)
    with connect(dsn) as conn, connections(workload_dsn if statements is None else ()) as replicas, \
            connections((trial_dsn,) if trial_dsn else ()) as trials:
        _named_tables(conn, exclude)
        result = api.suggest(conn, options, statements=statements, replicas=replicas, emit=emit, progress=progress,
                             prisma=prisma, role=as_role, trial=trials[0] if trials else None)
        notes = _emit_notes(conn, result, layout)
    _say_written(result, layout, schema_given=prisma is not None)
    _say_unread(result.indexes, exclude)
    for line in notes:
        click.echo(line, err=True)
    if fmt == Format.JSON:
        emit_json(result.as_dict())
    else:
        render(result, left_out=result.migration is not None and not with_constraints)


def _emit_notes(conn: psycopg.Connection[Any], result: api.Suggestion, layout: str) -> list[str]:
    """Lines for stderr on what a tool's files cannot hold beside a build: its statement_timeout, a GIN's serial
    build on PostgreSQL 18."""
    if result.migration is None:
        return []
    found = (timeouts.hint(conn, result.migration, layout),
             timeouts.parallel_gin(result.migration, layout, conn.info.server_version))
    return [line for line in found if line]


def _undeclared(result: api.Suggestion, layout: str) -> str:
    """A note when ``--layout prisma`` wrote builds without ``--prisma-schema``: the schema beside the migrations
    (or any) declares none of those indexes the schema does not name, and ``prisma migrate dev`` drops them as drift
    (p34: docs' step 2, --write, and step 3, --emit, run minutes apart: 10 lines written, 4 of them for indexes the
    emit did not build, and left 2 of its builds undeclared: a later workload, another set)."""
    if layout != Layout.PRISMA or result.migration is None or result.directory is None:
        return ""
    names = [ix.name for ix in result.indexes.indexes]
    beside = result.directory.resolve().parent
    schema = next((p for p in (beside / "schema.prisma", beside / "schema") if p.exists()), None)
    if schema is not None:
        files = [schema] if schema.is_file() else sorted(schema.rglob("*.prisma"))
        text = "".join(f.read_text(errors="replace") for f in files)
        names = [n for n in names if f'"{n}"' not in text]
    if not names:
        return ""
    where = str(schema) if schema is not None else "prisma/schema.prisma"
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return (f"prisma: {where} does not declare {len(names)} of the {len(result.indexes.indexes)} index(es) these "
            f"migrations build ({shown}): the next `prisma migrate dev` sees each as drift and drops it. After "
            f"`prisma migrate deploy`, run `pgtune suggest --prisma-schema {where} --write` (it writes the lines of "
            "the indexes pgtune built); next time give --prisma-schema … --write with --emit: a later suggest reads "
            "a later workload and may propose another set")


def _named_tables(conn: psycopg.Connection[Any], names: tuple[str, ...]) -> None:
    """Refuse an --exclude that names no table of the database, before any work: a typo (audit_logs, Orders
    for "Order") left out nothing and read as "nothing to exclude" (p17: exit 0, not a word)."""
    if not names:
        return
    tables = conn.execute(catalog_sql.load("relations_named")).fetchall()
    known = {name for schema, table in tables for name in (table, f"{schema}.{table}")}
    for name in names:
        if name not in known:
            like = difflib.get_close_matches(name, sorted(known), n=1)
            raise InputError(f"--exclude {name} names no table or view of database {conn.info.dbname}"
                             + (f": did you mean {like[0]}?" if like else " (names are case-sensitive)"))


def _say_unread(advice: Advice, names: tuple[str, ...]) -> None:
    """A note for each --exclude no statement analyzed reads (a table that exists, but not in this workload)."""
    hit = {t for sk in advice.skipped if sk.kind == SkipKind.EXCLUDED
           for t in sk.reason.removeprefix("excluded table ").split(", ")}
    for name in names:
        if name not in hit and not any(h.split(".", 1)[-1] == name for h in hit):
            click.echo(f"note: --exclude {name}: no statement analyzed reads it", err=True)


def _say_written(result: api.Suggestion, layout: str, schema_given: bool) -> None:
    """The stderr lines for a migration --emit wrote."""
    if result.migration is None:
        return
    if not result.migration.phases:
        # n38: "wrote migration … (0 phases) to prisma/migrations as prisma migrations" and the note on failed
        # builds, where a tool's layout wrote no file at all (pgtune's own writes an empty manifest), as health does.
        click.echo("nothing to migrate: no index or constraint to propose" + (
            f" ({result.directory} holds an empty migration)" if layout == Layout.PGTUNE
            else f": nothing written to {result.directory}"), err=True)
        return
    click.echo(wrote(result.migration.id, len(result.migration.phases), result.directory, layout), err=True)
    missing = result.without_values()
    if missing:
        # u6: told only at verify --measure, after deploy, that these could not be timed.
        click.echo(f"note: {missing} of {len(result.migration.targets)} targets have a $n parameter pgtune saw no "
                   "value for (pg_qualstats kept none): they are not timed, and verify --measure judges them by "
                   "plan and cost only (docs/values.md)", err=True)
    if layout == Layout.PRISMA:
        click.echo("prisma: a failed concurrent build leaves its migration failed: drop the INVALID index, "
                   "then `npx prisma migrate resolve --rolled-back <folder>` (see the file's comments)", err=True)
        drift = "" if schema_given else _undeclared(result, layout)
        if drift:
            click.echo(drift, err=True)


def render(result: api.Suggestion, left_out: bool) -> None:
    """The indexes, the CHECK constraints (``left_out``: a migration was written without them), Prisma's lines."""
    _print_advice(result.indexes, result.partitioned)
    _print_constraints(result.constraints, left_out=left_out)
    if result.prisma is not None:
        render_prisma(result.prisma)


def _print_constraints(checks: ConstraintAdvice, left_out: bool = False) -> None:
    """The proposals; ``left_out``: a migration was written without them (no --constraints)."""
    if checks.constraints:
        click.echo("")
        click.echo(tabulate([[c.name, f"{c.schema}.{c.table}", c.kind, c.check, c.confidence]
                             for c in checks.constraints],
                            headers=["CHECK constraint", "table", "kind", "check", "confidence"]))
        if left_out:
            click.echo("CHECK constraints are not in the migration: review them, then emit with --constraints")
        if any(not c.confidence.written for c in checks.constraints):
            click.echo("low confidence: listed for review only, never written to a migration (the data alone "
                       "cannot show what the application may write: refunds are negative, a set of codes grows)")
    for note in checks.notes:
        click.echo(f"note: {note}")
    for f in checks.findings:
        more = "+" if f.bounded else ""
        rows = "row" if f.violations == 1 and not more else "rows"
        click.echo(f"data quality: {f.schema}.{f.table} has {f.violations}{more} {rows} breaking {f.check} "
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

    # The curve is the b-tree selection's; GIN/BRIN/hash proposals come after it (p28: 152.7 MB said, 234 written).
    proposed = sum(ix.forecast_bytes or 0 for ix in advice.indexes) / 1048576
    written = f"; proposed with the GIN/BRIN/hash changes: {proposed:,.1f} MB" \
        if round(proposed, 1) != round(chosen.forecast_bytes / 1048576, 1) else ""
    click.echo(f"selection: {_count(end.step, 'step')} ({advice.what_if_calls} what-if plans); "
               f"chosen {point(chosen)}{written}")
    knee = advice.knee
    if knee is not None and knee.step != chosen.step:
        later = advice.curve[advice.curve.index(knee) + 1].forecast_bytes / 1048576
        budgets = [math.ceil(knee.forecast_bytes / 1048576 * 10 ** d) / 10 ** d for d in range(4)]
        mb = next((b for b in budgets if b < later), budgets[-1])  # emits the knee's set, not the next point's
        click.echo(f"  knee of the curve: {point(knee)} (suggest --max-index-mb {mb:g})")
    if end.step != chosen.step:
        click.echo(f"  all steps: {point(end)}; --format json lists the curve")


def _count(n: int, word: str) -> str:
    """`1 step`, `2 steps`: a one-statement --queries file read `selection: 1 steps`, `skipped 1 statements` (p26)."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def _print_headline(advice: Advice) -> None:
    """Σ calls × cost with the values the workload runs with; statements with a $n left generic apart."""
    before, after = advice.valued_cost(before=True), advice.valued_cost(before=False)
    if before and after:
        uncosted = _count(advice.uncosted_statements, "statement")
        left = (f"; {advice.uncosted_share:.0%} {advice.uncosted_of} ({uncosted}) not costed: see skipped"
                if advice.partly_costed else "")
        click.echo(f"workload cost (calls x plan cost): {before:,.0f} -> {after:,.0f} ({before / after:.1f}x){left}")
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


def _print_advice(advice: Advice, partitioned: set[tuple[str, str]]) -> None:
    if not advice.indexes and not advice.statements:
        # Nothing was judged: "already served" would be a verdict on no evidence (u's F8).
        click.echo("no index to suggest: no statement to analyze: "
                   "pg_stat_statements holds none of this database's workload yet, or --top/--min-* left none: "
                   "run the application's workload first" if not advice.skipped else
                   f"no index to suggest: none of the {len(advice.skipped)} statements could be analyzed "
                   "(--format json lists why)")
    elif not advice.indexes and advice.partly_costed:
        # "Already served" would be a verdict on statements no plan costed (u2's F2, F8).
        click.echo(f"no index to suggest for the statements pgtune could cost; {advice.uncosted_statements} "
                   f"statement(s) holding {advice.uncosted_share:.0%} {advice.uncosted_of} were not costed "
                   "(skipped, below): no verdict on them.")
    elif not advice.indexes:
        unkeyed = sum(1 for st in advice.statements if any(n.startswith("sorts on ") for n in st.notes))
        # "Already served" of a statement sorting on an expression no key was made for would be no verdict (p21).
        click.echo("no index to suggest: the workload is already served." if not unkeyed else
                   f"no index to suggest; {unkeyed} statement(s) sort on an expression pgtune makes no index key "
                   "of (note: lines below): no verdict on those sorts.")
    rows = [_index_row(ix) for ix in advice.indexes]
    if rows:
        click.echo(tabulate(rows, headers=["index", "table", "columns", "stmts", "cost cut", "size (forecast)",
                                           "why"]))
        if any(ix.statistics_hidden for ix in advice.indexes):
            click.echo("* row security hides this table's statistics from pgtune's role: size and cost cut "
                       "from column types alone (see the hint below)")
        click.echo("")
        for ix in advice.indexes:
            if (ix.schema, ix.table) in partitioned:
                # u6: the statement printed here was refused ("cannot create index on partitioned table concurrently").
                click.echo("-- " + ddl.comment(
                    f"{ix.name}: {ix.schema}.{ix.table} is partitioned, where PostgreSQL refuses CREATE INDEX "
                    "CONCURRENTLY: --emit builds it on each partition concurrently and attaches them "
                    "(docs/partitioned-tables.md)"))
                continue
            click.echo(ix.ddl + ";")
    _print_statistics(advice)
    click.echo("")
    click.echo(f"method: {advice.method}")
    _print_headline(advice)
    _print_curve(advice)
    for h in advice.hints:
        click.echo(f"hint: {h}")
    _print_notes(advice)
    if advice.skipped:
        kinds: dict[str, int] = {}
        for sk in advice.skipped:
            kinds[sk.kind] = kinds.get(sk.kind, 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
        click.echo(f"skipped {_count(len(advice.skipped), 'statement')} ({summary}); --format json lists them all")
        for sk in [s for s in advice.skipped if s.kind != SkipKind.UTILITY][:5]:
            click.echo(f"  {one_line(sk.query, 50)}: {one_line(sk.reason, 100)} ({sk.total_ms:,.0f} ms)")


def _index_row(ix: IndexSuggestion) -> list[Any]:
    """One proposal's row of the table."""
    gain = ""
    if ix.cost_before and ix.cost_after:
        gain = f"{ix.cost_before / ix.cost_after:.1f}x"
    size = f"{ix.forecast_bytes / 1048576:.1f} MB" if ix.forecast_bytes else ""
    if ix.statistics_hidden:
        size += " *"
    exprs = ix.expressions or [None] * len(ix.columns)
    keys = ", ".join((e or c) + (" DESC" if d else "")
                     for c, e, d in zip(ix.columns, exprs, ix.descending, strict=False))
    if ix.include:
        keys += f" INCLUDE {', '.join(ix.include)}"
    if ix.where:
        keys += f" WHERE {ix.where}"
    # Names come from the catalog: escaped, so a newline in one cannot start a line of its own.
    return [ddl.comment(ix.name), ddl.comment(f"{ix.schema}.{ix.table}"), ddl.comment(keys),
            len(ix.queries), gain, size, ddl.comment(ix.reason)]


def _print_notes(advice: Advice) -> None:
    """Each statement's notes, one line per distinct note with the queryids it is about: a role's row security
    note was printed once per statement of the role (u6: 11 near-identical lines)."""
    about: dict[str, list[str]] = {}
    for st in advice.statements:
        for note in st.notes:
            # A --queries file's statement has no queryid ("queryid None", p21): its text's start stands for it.
            text = " ".join(st.query.split())
            about.setdefault(note, []).append(str(st.queryid) if st.queryid is not None else
                                              repr(text if len(text) <= 40 else text[:40] + "…"))
    for note, ids in about.items():
        shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        kind = "queryid" if all(i[:1] not in "'\"" for i in ids) else "statement"
        click.echo(f"note: {kind}{'s' if len(ids) > 1 else ''} {shown}: {note}")


def _read_file(queries_file: Any, top: int) -> list[Statement]:
    """A --queries file's statements: its shapes seen most often (--top when given, else FILE_TOP), with a
    note on stderr of those only counted."""
    given = click.get_current_context().get_parameter_source("top") != click.core.ParameterSource.DEFAULT
    read = read_queries(queries_file, getattr(queries_file, "name", "-"), progress, size=_size(queries_file),
                        top=top if given else FILE_TOP)
    if not read.statements:
        # An empty file (a redirect that named the wrong one, a pipe that carried nothing): "pg_stat_statements
        # holds none of this database's workload" was said of it, exit 0 (u18).
        name = getattr(queries_file, "name", "<stdin>")
        raise InputError(f"--queries {name}: no SQL statement in it" if name != "<stdin>" else
                         "--queries -: standard input held no SQL statement")
    left = read.note()
    if left is not None:
        click.echo(f"note: {left}", err=True)
    return read.statements


def _size(source: Any) -> int | None:
    """The length of a --queries file (None for stdin or a pipe): for the progress lines."""
    try:
        return os.fstat(source.fileno()).st_size or None
    except (OSError, ValueError, AttributeError):
        return None
