"""A connection error for a DSN naming a service says where the service file pointed (p20).

pgtune configured only through a libpq service file (``service=formbricks``:
host, port, user and dbname in ~/.pg_service.conf, the password in ~/.pgpass)
said 'cannot connect to local socket:5432/' for a refused password at
localhost:55420, as a user, in a database, the line never named.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_service_files_target_is_named(tmp_path: Path) -> None:
    port = _free_port()                  # nothing listens there: the connection is refused
    (tmp_path / "services.conf").write_text(f"[app_p20]\nhost=127.0.0.1\nport={port}\ndbname=surveys_p20\n"
                                            "user=fb_p20\nsslmode=prefer\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k != "DATABASE_URL"}
    env["PGSERVICEFILE"] = str(tmp_path / "services.conf")
    ran = subprocess.run([sys.executable, "-m", "pgtune", "check", "--dsn", "service=app_p20 password='a #b'"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 2, ran.stderr
    [line] = ran.stderr.splitlines()
    assert line.startswith(f"pgtune: cannot connect to fb_p20@127.0.0.1:{port}/surveys_p20: "), line
    assert "a #b" not in line, line
