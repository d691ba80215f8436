"""A connection refused through sslmode=prefer is said once, not once per libpq attempt (c23, LOW).

With sslmode=prefer (libpq's default) and a server that offers SSL, libpq tries with SSL, and when the server
refuses that session (pg_hba.conf, a wrong password) tries again without, then reports both attempts: the error
line said "connection to server at "127.0.0.1", port … failed: FATAL: pg_hba.conf rejects connection … SSL
encryption connection to server at "127.0.0.1", port … failed: FATAL: pg_hba.conf rejects connection … no
encryption". (A server without SSL gets one attempt and one message: not reproduced there.) The same refusal is
now said once, naming both attempts; so is a failure psycopg lists for each of several hosts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from pgtune.cli import cli
from pgtune.cluster import LocalCluster, free_port


@pytest.fixture
def ssl_server() -> Iterator[LocalCluster]:
    """A throwaway cluster on 127.0.0.1 with SSL on (a self-signed certificate), refusing the role turned_away
    and taking pw_user by password."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make a certificate")
    cluster = LocalCluster(settings={"listen_addresses": "'127.0.0.1'"}).start()
    try:
        cert, key = cluster.root / "server.crt", cluster.root / "server.key"
        subprocess.run(["openssl", "req", "-new", "-x509", "-days", "2", "-nodes", "-out", str(cert),
                        "-keyout", str(key), "-subj", "/CN=localhost"], check=True, capture_output=True)
        os.chmod(key, 0o600)
        if cluster.as_root:
            for path in (cert, key):
                shutil.chown(path, "postgres", "postgres")
        hba = cluster.datadir / "pg_hba.conf"
        hba.write_text("host all turned_away 127.0.0.1/32 reject\nhost all pw_user 127.0.0.1/32 scram-sha-256\n"
                       + hba.read_text())
        with psycopg.connect(cluster.dsn, autocommit=True) as admin:
            admin.execute("CREATE ROLE turned_away LOGIN; CREATE ROLE pw_user LOGIN PASSWORD 'right-one'")
            try:
                for name, value in (("ssl_cert_file", str(cert)), ("ssl_key_file", str(key)), ("ssl", "on")):
                    admin.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name),
                                                                            sql.Literal(value)))
            except psycopg.errors.InvalidParameterValue:      # the embedded PostgreSQL 18 is built without SSL
                pytest.skip("this server is built without SSL")
            admin.execute("SELECT pg_reload_conf()")
        for _ in range(50):
            try:
                with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user={cluster.user} dbname=postgres "
                                     "sslmode=require"):
                    break
            except psycopg.OperationalError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not turn SSL on")
        yield cluster
    finally:
        cluster.stop()


@pytest.mark.parametrize(("user", "refusal"), [
    ("turned_away", 'pg_hba.conf rejects connection for host "127.0.0.1", user "turned_away", database "postgres"'),
    ("pw_user", 'password authentication failed for user "pw_user"'),
])
def test_a_refusal_through_ssl_prefer_is_said_once(ssl_server: LocalCluster, user: str, refusal: str) -> None:
    dsn = (f"host=127.0.0.1 port={ssl_server.port} user={user} password=wrong-one dbname=postgres "
           "sslmode=prefer")
    result = CliRunner().invoke(cli, ["check", "--dsn", dsn])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, lines
    # Without the fix: twice, "connection to server at … failed: …" for each of libpq's attempts.
    assert lines[0].count(refusal) == 1 and lines[0].count("connection to server at") == 1, lines[0]
    assert "(both attempts: with SSL and without)" in lines[0], lines[0]
    assert "wrong-one" not in result.output


def test_hosts_that_all_refuse_are_said_once() -> None:
    """Of several hosts psycopg said the last one's failure, then each one's again: the same failure three times
    for two hosts. Said once, naming both."""
    port = free_port()
    result = CliRunner().invoke(cli, ["check", "--dsn", f"host=127.0.0.1,127.0.0.2 port={port} user=x dbname=y "
                                      "connect_timeout=5"])
    assert result.exit_code == 2, result.output
    [line] = result.output.strip().splitlines()
    assert line.count("Connection refused") == 1, line
    assert (f'connection to server at "127.0.0.1", port {port} and at "127.0.0.2", port {port} failed: '
            "Connection refused") in line, line
