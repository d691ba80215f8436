"""Bad input a new user gives: one line on stderr, exit 2, nothing on stdout, no traceback (u18)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pgtune.cli import cli

NOWHERE = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}


@pytest.mark.parametrize(("args", "words"), [
    (["suggest", "--format", "xml"], "Invalid value for '--format': 'xml' is not one of 'table', 'json'"),
    (["check", "--nosuch"], "No such option '--nosuch'"),
    (["health", "extra"], "Got unexpected extra argument (extra)"),
    (["apply"], "Missing argument 'DIRECTORY' (usage: pgtune apply [OPTIONS] DIRECTORY; pgtune apply -h for help)"),
    (["nosuchcommand"], "No such command 'nosuchcommand'"),
    (["suggest", "--layout", "flyway"], "--layout needs --emit DIR"),
    (["config", "--memory", "10XB"], "'10XB' is not a size"),
    (["suggest", "--queries", "/nonexistent/slow.sql"], "'/nonexistent/slow.sql': No such file or directory"),
])
def test_a_usage_error_is_one_line(args: list[str], words: str) -> None:
    """p17: click printed three lines (its usage, "Try ... for help." and the error last)."""
    result = CliRunner().invoke(cli, args, env=NOWHERE, prog_name="pgtune")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("pgtune: ") and words in lines[0], result.stderr
    assert "-h for help)" in lines[0]
