"""The server-memory floor (16MB) holds at the library's door too, not only in the CLI's --memory (c25).

``pgtune config --memory 1MB`` is refused (its formulas give settings PostgreSQL refuses:
maintenance_work_mem under its 1MB floor, effective_cache_size '1kB' for 0), but api.config_profile and
api.config took memory=1 << 20 and returned those settings. Both now refuse it with the CLI's words.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune import api
from pgtune.cli import cli
from pgtune.config import ConfigOptions, Profile
from pgtune.errors import InputError

FLOOR = "is under 16MB: give the server's memory, e.g. 16GB, 512MB"


def test_a_profile_for_one_megabyte_is_refused() -> None:
    with pytest.raises(InputError, match=FLOOR.replace(".", r"\.")):
        api.config_profile(Profile.OLTP, 1 << 20, cpus=2)
    assert api.config_profile(Profile.OLTP, 16 << 20, cpus=2).settings      # the floor itself is taken


def test_the_connected_config_refuses_it_too(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(InputError, match=FLOOR.replace(".", r"\.")):
        api.config(conn, ConfigOptions(memory=1 << 20))
    assert api.config(conn, ConfigOptions(memory=16 << 30)) is not None


def test_the_cli_says_the_same(db: str) -> None:
    result = CliRunner().invoke(cli, ["config", "--dsn", db, "--memory", "1MB"])
    assert result.exit_code == 2 and FLOOR in result.output, result.output
