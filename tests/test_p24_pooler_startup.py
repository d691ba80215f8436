"""pgtune sends no application_name at startup; its session is named once the pooler check passed (p24).

PgBouncer in transaction mode SETs a client's startup parameters on the server session it lends and leaves
them there: after a `pgtune check` through it (refused, exit 2), the application's next client that sends no
application_name ran on that server session as 'pgtune' (trigger.dev-shaped, PostgreSQL 18, PgBouncer 1.18).
The startup message is read where a pooler reads it, on a listening socket; the session's name is checked on
the real server; and where the machine has Debian's pgbouncer, through a real PgBouncer in transaction mode.
"""

from __future__ import annotations

import socket
import struct
import threading
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.cli import cli
from pgtune.connect import connect
from pgtune.errors import ConnectionFailed

from .test_u9_pooler import PGBOUNCER, Bouncer


def _startup_parameters(conn: socket.socket) -> dict[str, str]:
    """Read one StartupMessage (after refusing SSL/GSS requests) and answer with an error, as a pooler may."""
    while True:
        size = struct.unpack("!I", conn.recv(4, socket.MSG_WAITALL))[0]
        body = conn.recv(size - 4, socket.MSG_WAITALL)
        code = struct.unpack("!I", body[:4])[0]
        if code in (80877103, 80877104):        # SSLRequest, GSSENCRequest
            conn.sendall(b"N")
            continue
        fields = body[4:].split(b"\0")
        params = {fields[i].decode(): fields[i + 1].decode() for i in range(0, len(fields) - 2, 2) if fields[i]}
        message = b"SFATAL\0C08P01\0Mnot a server\0\0"
        conn.sendall(b"E" + struct.pack("!I", len(message) + 4) + message)
        return params


def test_the_startup_message_carries_no_application_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGAPPNAME", "from-the-environment")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    seen: dict[str, str] = {}

    def serve() -> None:
        accepted, _ = server.accept()
        with accepted:
            seen.update(_startup_parameters(accepted))

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    port = server.getsockname()[1]
    with pytest.raises(ConnectionFailed):
        connect(f"host=127.0.0.1 port={port} user=app dbname=app application_name=from-the-dsn connect_timeout=5")
    t.join(5)
    server.close()
    assert seen.get("user") == "app", seen
    assert "application_name" not in seen, seen


def test_the_session_is_named_pgtune_once_connected(db: str) -> None:
    with connect(db) as conn, psycopg.connect(db, autocommit=True) as other:
        pid = conn.info.backend_pid
        row: Any = other.execute("SELECT application_name FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
        assert row == ("pgtune",)


@pytest.mark.skipif(PGBOUNCER is None, reason="no pgbouncer binary on this machine (Debian: apt-get install pgbouncer)")
def test_a_refused_run_leaves_no_name_on_the_pooled_session(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same through a real PgBouncer in transaction mode: the application's clients that send no
    application_name do not run as 'pgtune' after pgtune was refused there."""
    monkeypatch.delenv("PGAPPNAME", raising=False)
    bouncer = Bouncer(db, "transaction")
    try:
        out = CliRunner().invoke(cli, ["check"], env={"DATABASE_URL": bouncer.url})
        assert out.exit_code == 2 and "transaction pooler" in out.stderr, out.output
        names = []
        for _ in range(4):
            with psycopg.connect(f"host=127.0.0.1 port={bouncer.port} user={bouncer.user} dbname=app",
                                 autocommit=True) as app:
                row: Any = app.execute("SELECT current_setting('application_name')").fetchone()
                names.append(row[0])
        assert "pgtune" not in names, names
    finally:
        bouncer.stop()


@pytest.mark.skipif(PGBOUNCER is None, reason="no pgbouncer binary on this machine (Debian: apt-get install pgbouncer)")
def test_a_pooled_workload_dsn_is_refused_naming_that_option(db: str) -> None:
    """A replica's pooled URL given as --workload-dsn: the line says to give its direct one there, not with
    --dsn or DATABASE_URL (which already named the direct server)."""
    bouncer = Bouncer(db, "transaction")
    try:
        out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--workload-dsn", bouncer.url])
        lines = out.stderr.strip().splitlines()
        assert out.exit_code == 2 and len(lines) == 1 and "transaction pooler" in lines[0], out.output
        assert lines[0].endswith("with --workload-dsn"), lines
    finally:
        bouncer.stop()
