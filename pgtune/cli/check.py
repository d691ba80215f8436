"""pgtune check: what the server offers pgtune, and the fix for each missing piece."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click
from tabulate import tabulate

from ..connect import connect
from .shell import Format, dsn_option, emit_json, format_option, handle_errors, style

if TYPE_CHECKING:
    from .. import api
    from ..capabilities import Capabilities


def _library() -> None:
    """The library this command runs, imported once its options are parsed: a usage error answers before it
    loads (c20)."""
    global api, Capabilities
    from .. import api
    from ..capabilities import Capabilities


@click.command()
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
    _library()
    with connect(dsn) as conn:
        caps = api.check(conn)
    problems, hints = caps.problems(), caps.hints()
    if fmt == Format.JSON:
        emit_json({**caps.as_dict(), "problems": problems, "hints": hints})
    else:
        render(caps, problems, hints)
    if problems:
        sys.exit(1)


def render(caps: Capabilities, problems: list[str], hints: list[str]) -> None:
    rows = [
        ["server", caps.server_version],
        ["database", caps.database],
        ["role", caps.role],
        ["pg_stat_statements preloaded", _yn(caps.pgss_preloaded)],
        ["pg_stat_statements installed", _yn(caps.pgss_installed)],
        ["hypopg installed", _yn(caps.hypopg_installed)],
        # Not on the server at all: not preloaded either, whatever this role may read of the setting (r11 F17).
        ["pg_qualstats preloaded", _yn(caps.qualstats_preloaded if caps.qualstats_available else False)],
        ["pg_qualstats installed", _yn(caps.qualstats_installed)],
        ["pg_qualstats sample rate", caps.qualstats_sample_rate or "-"],
        ["pg_qualstats entries", _fill(caps)],
        ["reads all statistics", _yn(caps.reads_all_stats)],
        ["reads table statistics", _yn(True) if not caps.stats_hidden else
         style(f"no: {len(caps.stats_hidden)} table(s) under row security", fg="red")],
    ]
    click.echo(tabulate(rows, tablefmt="plain"))
    for p in problems:
        click.echo(f"missing: {p}")
    for h in hints:
        click.echo(f"hint: {h}")


def _fill(caps: Capabilities) -> str:
    """How full pg_qualstats' table is: ``998 of 1,000 (100%, full)``."""
    if caps.qualstats_entries is None or not caps.qualstats_max:
        return "-"
    text = f"{caps.qualstats_entries:,} of {caps.qualstats_max:,} ({caps.qualstats_entries / caps.qualstats_max:.0%}"
    return text + (", full)" if caps.qualstats_full else ")")


def _yn(flag: bool | None) -> str:
    if flag is None:      # a setting this role may not read (shared_preload_libraries: superuser-only)
        return style("cannot tell (this role cannot read shared_preload_libraries)", fg="yellow")
    return style("yes", fg="green") if flag else style("no", fg="red")
