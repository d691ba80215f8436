"""apply/rollback --wait and --wait-for-transactions are waits: a day at most, as --window (c25).

A value meant in milliseconds (--wait 60000) waited 16 hours for another applier, and --wait 1e12 for ever:
like --window before 700a670 they had no upper bound. Refused in one line, exit 2, before any connection.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pgtune.cli import cli


@pytest.mark.parametrize("command", [["apply"], ["rollback"]])
@pytest.mark.parametrize("option", ["--wait", "--wait-for-transactions"])
def test_a_wait_of_more_than_a_day_is_refused_in_one_line(db: str, tmp_path: Path, command: list[str],
                                                           option: str) -> None:
    result = CliRunner().invoke(cli, [*command, str(tmp_path), "--dsn", db, option, "90000"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and f"{option} takes a number from 0 to 86400, not '90000'" in lines[0], result.output
    assert "Traceback" not in result.output


def test_a_day_is_still_taken(db: str, tmp_path: Path) -> None:
    """86400 passes the option: what refuses the run is the empty folder, not the wait."""
    result = CliRunner().invoke(cli, ["apply", str(tmp_path), "--dsn", db, "--wait", "86400",
                                      "--wait-for-transactions", "86400"])
    assert "--wait" not in result.output, result.output
