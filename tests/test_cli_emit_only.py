"""An option whose help says "With --emit:", given without --emit: one line, exit 2, before any work (c19).

suggest --keep-redundant or --no-measure, health --measure or --lock-timeout, config --statement-timeout ran
without --emit, did nothing with the option and said nothing: a DBA who forgot --emit read the advice as shaped
by it. --layout and --constraints said so already; the others now do too, the same way.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.cli import cli

from .helpers import shop


@pytest.mark.parametrize(("args", "named"), [
    (["suggest", "--queries", "-", "--keep-redundant"], "--keep-redundant only shapes"),
    (["suggest", "--queries", "-", "--no-measure"], "--no-measure only shapes"),
    (["suggest", "--queries", "-", "--analyze", "--keep-redundant"], "--measure, --keep-redundant only shape"),
    (["health", "--measure"], "--measure only shapes"),
    (["health", "--lock-timeout", "2s"], "--lock-timeout only shapes"),
    (["config", "--statement-timeout", "2min"], "--statement-timeout only shapes"),
])
def test_an_emit_option_without_emit_is_a_usage_error(db: str, conn: psycopg.Connection[Any], args: list[str],
                                                      named: str) -> None:
    shop(conn)
    query = 'SELECT id FROM "order" WHERE "userId" = 7;'
    ran = CliRunner().invoke(cli, [*args, "--dsn", db], input=query, prog_name="pgtune")
    assert ran.exit_code == 2, (ran.exit_code, ran.output)
    assert ran.stdout == ""
    [line] = ran.stderr.splitlines()
    assert line.startswith("pgtune: ") and named in line and "add --emit [DIR]" in line, line
    # Without the option the same command runs (its own exit code: advice, findings, settings).
    rest = [a for a in args if a not in ("--keep-redundant", "--no-measure", "--measure", "--analyze", "--lock-timeout",
                                         "--statement-timeout", "2s", "2min")]
    plain = CliRunner().invoke(cli, [*rest, "--dsn", db], input=query, prog_name="pgtune")
    assert plain.exit_code in (0, 1), plain.output
