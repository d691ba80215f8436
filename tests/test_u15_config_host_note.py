"""config's note on an unknown memory names the real cause when the role may not read data_directory (u15).

As the Formbricks tables' owner (pg_read_all_stats, no pg_read_all_settings),
`pgtune config` on the server's own machine said "pgtune does not run on its
host": data_directory, which tells pgtune that the server is this machine's,
is hidden from such a role. The note now says so, with the GRANT.
"""

from __future__ import annotations

from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli


def test_the_memory_note_names_the_setting_the_role_may_not_read(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("DROP ROLE IF EXISTS cfg_owner")
    conn.execute("CREATE ROLE cfg_owner LOGIN")
    conn.execute("GRANT pg_read_all_stats TO cfg_owner")
    try:
        dsn = psycopg.conninfo.make_conninfo(db, user="cfg_owner")
        out = CliRunner().invoke(cli, ["config", "--dsn", dsn])
        assert out.exit_code == 0, out.output
        assert "may not read data_directory" in out.output and "pg_read_all_settings" in out.output, out.output
        assert "does not run on its host" not in out.output

        conn.execute("GRANT pg_read_all_settings TO cfg_owner")
        granted = CliRunner().invoke(cli, ["config", "--dsn", dsn])
        assert granted.exit_code == 0, granted.output
        assert "may not read data_directory" not in granted.output
    finally:
        conn.execute("DROP OWNED BY cfg_owner")
        conn.execute("DROP ROLE cfg_owner")
