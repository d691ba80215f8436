"""pgtune verify: re-plan (with --measure, time) what a migration targeted; a config migration: its symptoms."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from pglast import ast
from tabulate import tabulate

from .._text import one_line
from ..connect import connect
from ..duration import to_ms
from ..errors import InputError
from .shell import (
    DURATION,
    WINDOW_MAX_S,
    Format,
    Number,
    dsn_option,
    emit_json,
    format_option,
    handle_errors,
    index_sizes,
    style,
)

if TYPE_CHECKING:
    from .. import api
    from ..sqltext import ParseFailed, parse_one
    from ..verify_junit import check_report_path, junit


def _library() -> None:
    """The library this command runs, imported once its options are parsed: a usage error answers before it
    loads (c20)."""
    global api, ParseFailed, parse_one, check_report_path, junit
    from .. import api
    from ..sqltext import ParseFailed, parse_one
    from ..verify_junit import check_report_path, junit


@click.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), required=False)
@dsn_option
@format_option
@click.option("--tolerance", default=0.10, show_default=True, type=Number(0),
              help="Allowed cost increase over baseline.")
@click.option("--time-tolerance", default=0.25, show_default=True, type=Number(0),
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
@click.option("--window", type=Number(0, WINDOW_MAX_S, min_open=True), default=None, metavar="SECONDS",
              help="A config migration: read the statistics twice, this far apart (at most a day), while the load "
                   "runs (default: since their reset).")
@click.option("--query", "adhoc", default=None,
              help="Check one statement instead of a migration folder: a SELECT, INSERT, UPDATE or DELETE (or its "
                   "EXPLAIN); anything else is refused (exit 2).")
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
      pgtune verify --query 'SELECT * FROM orders WHERE "userId" = 42' --expect-index orders_userId_idx
    """
    _library()
    if expect_index and adhoc is None:
        raise click.UsageError("--expect-index goes with --query")
    if (directory is None) == (adhoc is None):
        raise click.UsageError("give either a migration DIRECTORY or --query SQL (exactly one of them)")
    if adhoc is not None:
        _one_plannable(adhoc)
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
    if fmt == Format.JSON:
        emit_json(result.as_dict())
    else:
        _render_verification(result, analyze)
    if not result.ok:
        sys.exit(1)


# What EXPLAIN plans: the statements --query can check.
PLANNABLE = (ast.SelectStmt, ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt) + (
    (ast.MergeStmt,) if hasattr(ast, "MergeStmt") else ())


def _one_plannable(query: str) -> None:
    """Refuse, before connecting, a --query that is not one statement EXPLAIN plans: a typo, two statements, or
    DDL was a FAIL row and exit 1 ("cannot plan: syntax error at or near "DROP""), a check failed where the
    check could not be asked (u18)."""
    try:
        node: ast.Node | None = parse_one(query)
    except ParseFailed as exc:
        raise InputError(f"--query is not one SQL statement: {exc.reason}") from None
    if isinstance(node, ast.ExplainStmt):
        node = node.query       # checked as the statement it explains, as the library plans it
    if not isinstance(node, PLANNABLE):
        first = query.split(None, 1)[0].upper() if query.split() else "?"
        raise InputError(f"--query takes a SELECT, INSERT, UPDATE or DELETE (what EXPLAIN plans), not {first}")


def _print_config_verify(checked: Any, fmt: str) -> None:
    """Per setting of a config migration: did its symptom go away over the period read?"""
    if fmt == Format.JSON:
        emit_json(checked.as_dict())
    else:
        rows = [[style("ok", fg="green") if c.ok else style("FAIL", fg="red"), c.target, c.name, c.symptom,
                 c.outcome, one_line(json.dumps(c.now, default=str), 70) if c.now else "-", c.note]
                for c in checked.checks]
        click.echo(tabulate(rows, headers=["", "where", "setting", "symptom", "outcome", "now", "note"],
                            disable_numparse=True))
        p = checked.period
        click.echo(f"period: {p['seconds']:,} s since {p['since']}" + (" (window)" if p["window"] else ""))
        if checked.emptied:
            click.echo(checked.emptied)
    if not checked.ok:
        sys.exit(1)



# By api.Verdict's values (a StrEnum: each member looks its value up): no library needed to define it.
_VERDICT_MARK = {"ok": ("ok", "green"), "nil-gain": ("nil", "yellow"), "fail": ("FAIL", "red"),
                 "unchecked": ("skip", "yellow"), "rolled-back": ("undone", "yellow")}


def _rolled_back(result: api.Verification) -> str | None:
    """A migration rolled back whole (every index phase not in place rolled back, none of its indexes built): one
    line saying so, exit 0 (n38). Its table read "cost cut now 1.0x" per statement, as if that were a measured
    result (c24)."""
    if not result.rolled_back:
        return None
    phases = ", ".join(str(p.number) for p in result.phases)
    n = len(result.targets)
    return (f"verify: migration {result.migration_id} is rolled back (phase{'s' if len(result.phases) > 1 else ''} "
            f"{phases}; none of its indexes is built): nothing to verify; its {n} target "
            f"{'statements are' if n != 1 else 'statement is'} checked once it is applied again (pgtune apply)")


def _render_verification(result: api.Verification, analyze: bool) -> None:
    """verify's table, then each failure's reason, then what the timings say."""
    undone = _rolled_back(result)
    if undone is not None:
        click.echo(undone)
        for p in result.phases:
            click.echo(f"note: {p.line(undone=True)}")
        return
    rows = []
    for t in result.targets:
        text, colour = _VERDICT_MARK[t.verdict]
        row = [style(text, fg=colour), t.queryid if t.queryid is not None else "-", t.name,
               ", ".join(t.used) or "-", _x(t.predicted_ratio),
               "-" if t.verdict == api.Verdict.ROLLED_BACK else _x(t.ratio)]    # 1.0x would measure nothing (c24)
        if analyze:
            # A target not timed now has no time cut to compare: its predicted time cut, when emit timed one,
            # else nothing (u11: the cost cut stood there for a statement that ran slower by hand).
            # A baseline timed for other values than the target's now stands beside no time (v36).
            row += [_x(t.compared_ratio if t.measured_ratio else t.predicted_time_ratio), _x(t.measured_ratio),
                    f"{t.baseline_ms:.2f}" if t.baseline_ms is not None and not t.not_compared else "-",
                    f"{t.ms:.2f}" if t.ms is not None else "-"]
        change = ""
        if t.scans_before and t.scans_before != t.scans_now:
            change = f"plan was: {one_line(', '.join(t.scans_before), 60)}"
        unlike = f"not compared with its baseline: {t.not_compared}" if t.not_compared else ""
        rows.append([*row, one_line("; ".join(x for x in (t.problem, unlike, t.note, change) if x), 100)])
    # The planner's cuts (predicted at emit, now), then what timing compares: the predicted cut it is held to (a
    # predicted time, the warm-priced or the plain cost cut: diagnose names which) and the measured one.
    headers = ["", "queryid", "statement", "index used", "cost cut predicted", "cost cut now"]
    headers += ["time cut predicted", "time cut measured", "ms before", "ms now"] if analyze else []
    if rows:
        click.echo(tabulate(rows, headers=[*headers, "problem / note"], disable_numparse=True))
    else:   # p25: a bare header read as a table whose rows were lost
        click.echo("no statement to check: at emit, no workload statement (pg_stat_statements) was found whose "
                   "plan this migration should change")
    for p in result.phases:
        click.echo(f"note: {p.line()}")
    _render_not_compared(result, analyze)
    for t in result.failures:
        queryid = f" (queryid {t.queryid})" if t.queryid is not None else ""     # --query has none
        mark = "NOT CHECKED" if t.verdict == api.Verdict.UNCHECKED else "FAIL"
        click.echo(f"{mark} {t.name}{queryid}: {t.problem}")
    _render_unused(result, targeted=bool(rows))
    real = {s.name: s.real_bytes for s in result.sizes}
    for name in result.nil_gain_indexes:
        built = real.get(name)
        size = f" ({built / 1048576:,.1f} MB)" if built else ""
        click.echo(f"note: index {name}{size}: measured gain nil on every statement timed on it")
    for table in result.stale_statistics:
        click.echo(f"note: statistics of {table} predate its new index: run ANALYZE {table}")
    if result.sizes:
        click.echo(f"indexes: {index_sizes(result.sizes)} MB (forecast at emit → on disk now)")
    if analyze:
        _render_timings(result)


def _render_unused(result: api.Verification, *, targeted: bool) -> None:
    """A note per planned index no target's plan uses: with targets, that none does (and the scans the server
    counts of it); without (health's foreign-key indexes), that verify has no plan to check it by (v37: "used by
    no targeted statement" read as "useless")."""
    for name in result.unused_indexes:
        why = f" (planned at emit: {result.planned_for[name]})" if name in result.planned_for else ""
        scans = result.scanned.get(name)
        counted = (f"; yet the server counts {scans:,} scans of it (pg_stat_user_indexes): other statements, or "
                   "other values than emit's, use it" if scans else "")
        if targeted:
            click.echo(f"note: planned index {name} is used by no targeted statement{why}{counted}")
        else:
            click.echo(f"note: planned index {name}: no statement of this migration targets it, so verify has no "
                       f"plan to check it by{why}{counted}")


def _render_not_compared(result: api.Verification, analyze: bool) -> None:
    """The targets whose baselines were taken for other values than they hold now, named: their cost and time now
    stand beside no baseline (v36: "ok 2,229x", a small website timed against website 1's baseline)."""
    unlike = [t for t in result.targets if t.not_compared]
    for reason in dict.fromkeys(t.not_compared for t in unlike):
        names = [t.name for t in unlike if t.not_compared == reason]
        click.echo(f"note: not compared with their baselines ({len(names)} of {len(result.targets)} statements, "
                   f"{reason.split(';')[0]}): {', '.join(names)}; their plans now are checked"
                   f"{', their times now measured' if analyze else ''}, and no cut is claimed for them")


def _render_timings(result: api.Verification) -> None:
    timed = [t for t in result.targets if t.baseline_ms is not None]
    cold = sum(bool(t.baseline_read_blocks) for t in timed)
    click.echo(f"baseline: timed at emit for {len(timed)} of {len(result.targets)} statements"
               + (f" ({cold} of them read from disk)" if cold else "")
               + (f"; planner cost only for {len(result.targets) - len(timed)}" if len(timed) < len(result.targets)
                  else ""))
    unlike = f"; {result.not_compared} not compared (values edited since emit)" if result.not_compared else ""
    click.echo(f"measured {result.measured} of {len(result.targets)} statements now; {result.agreement()}{unlike}")
    # Why the others have no time, by reason (t36: "measured 0 of 5" under row security, the why only in the JSON).
    for why, n in Counter(t.unmeasured for t in result.targets if t.unmeasured).items():
        click.echo(f"  not timed now ({n} of {len(result.targets)}): {why}")
    if result.baseline_elsewhere:
        click.echo(f"note: {result.baseline_elsewhere}")
    for t in result.targets:
        if t.disagreement:
            click.echo(f"  {t.name}: {t.disagreement}")


def _x(ratio: float | None) -> str:
    return f"{ratio:,.1f}x" if ratio else ""
