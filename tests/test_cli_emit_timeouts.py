"""suggest's --lock-timeout, --statement-timeout and --first-phase-share only shape the migration --emit writes:
without --emit they are a usage error, one line, exit 2, like suggest's other emit options (c20).

Their help did not start "With --emit:", so the check of 2711950 passed them over: `pgtune suggest
--lock-timeout 10s` ran, exit 0, and the DBA read advice no timeout shaped.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.cli import cli

from .helpers import shop


@pytest.mark.parametrize(("option", "value"), [
    ("--lock-timeout", "10s"), ("--statement-timeout", "2min"), ("--first-phase-share", "0.5")])
def test_a_suggest_timeout_without_emit_is_a_usage_error(db: str, conn: psycopg.Connection[Any], option: str,
                                                        value: str, tmp_path: Any) -> None:
    shop(conn)
    query = 'SELECT id FROM "order" WHERE "userId" = 7;'
    ran = CliRunner().invoke(cli, ["suggest", "--queries", "-", option, value, "--dsn", db], input=query,
                             prog_name="pgtune")
    assert ran.exit_code == 2, (ran.exit_code, ran.output)
    assert ran.stdout == ""
    [line] = ran.stderr.splitlines()
    assert line.startswith("pgtune: ") and f"{option} only shapes" in line and "add --emit [DIR]" in line, line
    # With --emit the option is taken and the migration written.
    folder = tmp_path / "m"
    emitted = CliRunner().invoke(cli, ["suggest", "--queries", "-", option, value, "--no-measure", "--emit",
                                       str(folder), "--dsn", db], input=query, prog_name="pgtune")
    assert emitted.exit_code == 0, emitted.output
    assert (folder / "manifest.json").exists()
