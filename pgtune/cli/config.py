"""pgtune config: server settings from what the server does (or, for a new server, from a profile)."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import click
from tabulate import tabulate

from .._text import one_line
from ..connect import connect
from .shell import (
    WINDOW_MAX_S,
    Format,
    LazyChoice,
    Number,
    Size,
    Whole,
    dsn_option,
    emit_choice,
    emit_json,
    emit_options,
    format_option,
    handle_errors,
    wrote,
)

if TYPE_CHECKING:
    from .. import api
    from ..config import Profile
    from ..config import Storage as ConfigStorage
    from ..plan import Layout


def _library() -> None:
    """The library this command runs, imported once its options are parsed: a usage error answers before it
    loads (c20)."""
    global api, Profile, ConfigStorage, Layout
    from .. import api
    from ..config import Profile
    from ..config import Storage as ConfigStorage
    from ..plan import Layout


def _storages() -> list[str]:
    from ..config import Storage
    return [s.value for s in Storage]


def _profiles() -> list[str]:
    from ..config import Profile
    return [p.value for p in Profile]


class ProfileForm(StrEnum):
    """--as: how --profile prints its settings."""

    CONF = "conf"                    # postgresql.conf lines
    ALTER_SYSTEM = "alter-system"    # ALTER SYSTEM statements


@click.command()
@dsn_option
@format_option
@click.option("--window", type=Number(0, WINDOW_MAX_S, min_open=True), default=None, metavar="SECONDS",
              help="Read the statistics twice, this far apart (at most a day), and judge what happened between "
                   "(default: since their last reset).")
@click.option("--memory", type=Size(), default=None,
              help="The server's memory (default: read from its host when pgtune runs there, cgroup limit first).")
@click.option("--cpus", type=Whole(1), default=None, help="The server's CPUs (default: from its host).")
@click.option("--storage", type=LazyChoice(_storages), default=None,
              help="What the data lives on (default: the data directory's device, when on the host).")
@click.option("--pooler/--no-pooler", default=None,
              help="Whether a connection pooler holds the server's connections (default: told from application_name "
                   "and DISCARD ALL); sizes max_connections.")
@click.option("--profile", type=LazyChoice(_profiles), default=None,
              help="A new server with no history: print settings for this workload from documented formulas "
                   "(needs --memory; no connection).")
@click.option("--connections", type=Whole(1), default=None,
              help="With --profile: max_connections (default: PGTune's for the profile).")
@click.option("--as", "output", type=click.Choice([f.value for f in ProfileForm]), default=ProfileForm.CONF.value,
              show_default=True,
              help="With --profile: postgresql.conf lines or ALTER SYSTEM statements.")
@click.option("--server-version", type=Whole(90600), default=150000, show_default=True,
              help="With --profile: the server_version_num the settings are for.")
# The same --emit group as suggest's and health's, without --layout: a config migration's ALTER SYSTEM cannot run
# inside the transaction a migration tool wraps each file in, and its reload/restart phases need pgtune apply.
@emit_options("Write the proposals as a migration folder (default: migrations/<timestamp>_config): role and "
              "table settings, then reload, then restart; apply, status, verify and rollback work on it.",
              "With --emit: lock_timeout for ALTER TABLE … SET (…).",
              "With --emit: statement_timeout of the migration's statements.")
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
    _library()
    if profile is not None:
        if memory is None:
            raise click.UsageError("--profile needs --memory (and --cpus, --storage for parallel and I/O settings)")
        cfg = api.config_profile(Profile(profile), memory, cpus=cpus,
                                 storage=ConfigStorage(storage or "ssd"), connections=connections,
                                 server_version_num=server_version)
        _print_profile(cfg, fmt, output)
        return
    emit = emit_choice(emit_dir, Layout.PGTUNE, lock_timeout=lock_timeout, statement_timeout=statement_timeout,
                       slug="config")
    options = api.ConfigOptions(window_s=window, memory=memory, cpus=cpus,
                                storage=ConfigStorage(storage) if storage else None, pooler=pooler)
    with connect(dsn) as conn:
        report = api.config(conn, options, emit=emit)
    if report.migration is not None:
        m = report.migration
        click.echo(wrote(m["id"], len(m["phases"]), m["directory"], "pgtune") if m["phases"]
                   else "nothing to migrate: no proposal" if not m["platform_changes"]
                   else "nothing this role may migrate", err=True)
        if m["platform_changes"]:
            click.echo(f"wrote the platform's commands for the server-wide settings to {m['platform_changes']} "
                       "(pgtune apply does not run them)", err=True)
    if fmt == Format.JSON:
        emit_json(report.as_dict())
    else:
        _print_config(report)
    if report.budget is not None and not report.budget.ok:
        sys.exit(1)


def _print_profile(cfg: Any, fmt: str, output: str) -> None:
    if fmt == Format.JSON:
        emit_json(cfg.as_dict())
    else:
        click.echo(cfg.conf() if output == ProfileForm.CONF else cfg.alter_system(), nl=False)
        click.echo(f"{'#' if output == ProfileForm.CONF else '--'} memory budget: {cfg.budget.message}")
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
