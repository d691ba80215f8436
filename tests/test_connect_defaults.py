"""With no --dsn and no DATABASE_URL, libpq's defaults pick the user and database: the connection error says
which (c19).

describe() read the DSN and the PG* variables only, so a connection made from libpq's defaults was said to be
'local socket:5432/' (no user, no database): the operating-system user libpq logs in as, and the database named
after it, were nowhere in the line a DBA had to act on.
"""

from __future__ import annotations

import getpass
import os
import subprocess
import sys

from psycopg.conninfo import conninfo_to_dict

from .conftest import Server


def _check(env: dict[str, str]) -> tuple[int, str]:
    ran = subprocess.run([sys.executable, "-m", "pgtune", "check"], env=env, capture_output=True, text=True,
                         timeout=120)
    return ran.returncode, ran.stderr


def test_the_defaults_libpq_tried_are_named(pg_server: Server) -> None:
    params = conninfo_to_dict(pg_server.dsn)
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("PG") and k not in ("DATABASE_URL", "PGTUNE_TEST_DSN")}
    env = {**base, "PGHOST": str(params.get("host") or "localhost"), "PGPORT": str(params.get("port") or 5432),
           "PGDATABASE": "nosuch_c19", "PGPASSWORD": "s3cret-c19", "PGCONNECT_TIMEOUT": "10"}
    me = getpass.getuser()
    code, err = _check(env)
    assert code == 2, err
    [line] = err.splitlines()
    assert f"cannot connect to {me}@{env['PGHOST']}:{env['PGPORT']}/nosuch_c19" in line, line    # was host:port/db
    assert "libpq" in line and "s3cret" not in line, line
    # The database too is libpq's default: the user's name.
    del env["PGDATABASE"]
    code, err = _check(env)
    if code != 2:
        return          # a role and a database named after this user exist on the test server: nothing failed
    [line] = err.splitlines()
    assert f"cannot connect to {me}@{env['PGHOST']}:{env['PGPORT']}/{me}" in line, line
