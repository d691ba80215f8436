"""The pgtune command line: a thin shell over the library.

Each command parses options, makes one library call (pgtune.api) and renders
the result; each lives in a module of its own with its rendering, and what
they share (errors, option groups) is in shell.
Exit codes: 0 ok, 1 a check failed, 2 usage or connection error, 130 interrupted.
"""

from __future__ import annotations

import logging

import click

from .. import __version__
from . import check, config, health, migration, suggest, verify
from .shell import Group, Number, handle_errors

# psycopg logs a pipeline's second error as a WARNING ("error ignored terminating <psycopg.Pipeline ...>") while
# pgtune is already handling the first; with no logging configured Python's last-resort handler printed it on the
# user's terminal (t5: every TPC-H suggest). The command reports errors itself, in one line each.
logging.getLogger("psycopg").addHandler(logging.NullHandler())


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
@click.option("--keep", is_flag=True, help="Leave the server running and print its DSN.")
@click.option("--scale", default=1.0, show_default=True, type=Number(0.01, 20),
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
    from ..demo.runner import run_demo
    run_demo(keep=keep, scale=scale, echo=click.echo, progress=lambda m: click.echo(f"… {m}", err=True))


for _command in (check.check, suggest.suggest, migration.apply, migration.rollback, migration.status,
                 verify.verify, health.health, config.config):
    cli.add_command(_command)


def main() -> None:
    cli()
