"""The pgtune command line: a thin shell over the library.

Each command parses options, makes one library call (pgtune.api) and renders
the result; each lives in a module of its own with its rendering, and what
they share (errors, option groups) is in shell.
Exit codes: 0 ok, 1 a check failed, 2 usage or connection error, 130 interrupted.
"""

from __future__ import annotations

import importlib
import logging

import click

from .. import __version__
from .shell import Group, Number, handle_errors

# psycopg logs a pipeline's second error as a WARNING ("error ignored terminating <psycopg.Pipeline ...>") while
# pgtune is already handling the first; with no logging configured Python's last-resort handler printed it on the
# user's terminal (t5: every TPC-H suggest). The command reports errors itself, in one line each.
logging.getLogger("psycopg").addHandler(logging.NullHandler())


# Each command's module (and the library it imports) is loaded when that command runs or its help is shown: a
# usage error answers in a fraction of a second, not after every command's imports (c20).
COMMANDS = {"baseline": ("baseline", "baseline"), "check": ("check", "check"), "suggest": ("suggest", "suggest"),
            "apply": ("migration", "apply"), "rollback": ("migration", "rollback"),
            "status": ("migration", "status"), "verify": ("verify", "verify"), "health": ("health", "health"),
            "config": ("config", "config")}


class Commands(Group):
    """pgtune's group, its commands imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, name = COMMANDS[cmd_name]
            command = getattr(importlib.import_module(f"{__name__}.{module}"), name)
            assert isinstance(command, click.Command)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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



def main() -> None:
    cli()
