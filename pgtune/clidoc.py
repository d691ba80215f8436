"""The CLI reference page (docs/cli.md), generated from the commands' own --help.

``python -m pgtune.clidoc > docs/cli.md`` writes it; a test fails when the
page and the help text drift apart.
"""

from __future__ import annotations

import click

from .cli import cli


def render() -> str:
    settings = {"max_content_width": 100, **cli.context_settings, "terminal_width": 100}
    ctx = click.Context(cli, info_name="pgtune", **settings)
    parts = ["# pgtune command reference", "",
             "Generated from `pgtune --help` and each command's `--help` "
             "(`python -m pgtune.clidoc > docs/cli.md`); the tests fail when it is stale.", "",
             "Exit codes: 0 ok, 1 a check failed, 2 usage or connection error, 130 interrupted. An error is one "
             "line on stderr; a usage error ends with the command's usage and its `-h`.", "",
             "## pgtune", "", "```text", cli.get_help(ctx).rstrip(), "```", ""]
    commands = cli.list_commands(ctx) if isinstance(cli, click.Group) else []
    for name in commands:
        command = cli.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        sub = click.Context(command, info_name=name, parent=ctx, **settings)
        parts += [f"## pgtune {name}", "", "```text", command.get_help(sub).rstrip(), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
