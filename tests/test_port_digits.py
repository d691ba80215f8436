"""A port of digits that are not ASCII is not a port number: one line, exit 2 (r19).

connect._check_port took str.isdigit() for a number: '²' passed it and int() raised, reported as pgtune's
"internal error (ValueError …)", exit 1; Arabic-Indic '١٢' passed both and libpq then said "failed to resolve host
'localhost': [Errno -8] Servname not supported for ai_socktype", the message the check was written to replace.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pgtune.cli import cli


@pytest.mark.parametrize(("dsn", "env", "port"), [
    ("host=localhost port=²", {}, "²"),
    ("postgresql://u:pw@localhost:١٢/db", {}, "١٢"),
    ("host=localhost", {"PGPORT": "５４３２"}, "５４３２"),
])
def test_a_port_of_digits_that_are_not_ascii_is_said_so(dsn: str, env: dict[str, str], port: str) -> None:
    result = CliRunner().invoke(cli, ["check", "--dsn", dsn], env=env)
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].endswith(f"the port {port!r} is not a port number (1 to 65535)"), lines
    assert "pw" not in result.stderr
