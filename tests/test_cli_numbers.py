"""A bad number given to an option is refused in one line of pgtune's own, exit 2, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pgtune.cli import cli


@pytest.mark.parametrize(("args", "line"), [
    (["suggest", "--max-indexes", "abc"], "pgtune: --max-indexes takes a whole number of 0 or more, not 'abc'"),
    (["suggest", "--max-indexes", "-3"], "pgtune: --max-indexes takes a whole number of 0 or more, not '-3'"),
    (["suggest", "--top", "1.5"], "pgtune: --top takes a whole number of 1 or more, not '1.5'"),
    (["suggest", "--first-phase-share", "3"], "pgtune: --first-phase-share takes a number from 0 to 1, not '3'"),
    (["suggest", "--max-index-mb", "nan"], "pgtune: --max-index-mb takes a number of 0 or more, not 'nan'"),
    (["apply", ".", "--phase", "x"], "pgtune: --phase takes a whole number of 1 or more, not 'x'"),
    (["rollback", ".", "--wait", "inf"], "pgtune: --wait takes a number from 0 to 86400, not 'inf'"),
    (["config", "--window", "0"], "pgtune: --window takes a number above 0 and at most 86400, not '0'"),
    # A wait: a value meant in milliseconds (or a typo) is refused, not waited for days (p22).
    (["config", "--window", "99999999999999"],
     "pgtune: --window takes a number above 0 and at most 86400, not '99999999999999'"),
    (["verify", ".", "--window", "300000"], "pgtune: --window takes a number above 0 and at most 86400, not '300000'"),
    (["health", "--min-rows", "many"], "pgtune: --min-rows takes a whole number of 0 or more, not 'many'"),
    (["verify", ".", "--time-tolerance", "-1"], "pgtune: --time-tolerance takes a number of 0 or more, not '-1'"),
    (["demo", "--scale", "50"], "pgtune: --scale takes a number from 0.01 to 20, not '50'"),
])
def test_a_bad_number_is_one_line_of_pgtunes(args: list[str], line: str) -> None:
    result = CliRunner().invoke(cli, args, env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [line]


def test_a_good_number_still_passes(tmp_path: Path) -> None:
    # Refused only for the number: with a good one, the command goes on (to its connection, which fails here).
    result = CliRunner().invoke(cli, ["suggest", "--max-indexes", "3", "--first-phase-share", "0.5",
                                      "--emit", str(tmp_path / "m")],
                                env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.exit_code == 2
    assert result.stderr.startswith("pgtune: cannot connect"), result.stderr
