"""A real PostgreSQL for every test, never a mock.

Server, in order: ``PGTUNE_TEST_DSN`` if set; else a testcontainers
PostgreSQL where a Docker engine answers; else a throwaway cluster from the
local server binaries (pgtune.cluster). Each test gets its own database with
pg_stat_statements (and hypopg when the server has it).
"""

from __future__ import annotations

import itertools
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from pgtune.cluster import LocalCluster


@dataclass
class Server:
    dsn: str                   # admin connection to the maintenance database
    kind: str
    version: str = ""

    def dsn_for(self, dbname: str) -> str:
        return make_conninfo(self.dsn, dbname=dbname)


def _docker_answers() -> bool:
    try:
        import docker  # testcontainers' dependency

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    env = os.environ.get("PGTUNE_TEST_DSN")
    if env:
        yield _versioned(Server(env, "PGTUNE_TEST_DSN"))
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:15", driver=None).with_command(
            "postgres -c shared_preload_libraries=pg_stat_statements")
        with container as pg:
            yield _versioned(Server(pg.get_connection_url(), "testcontainers"))
        return
    cluster = LocalCluster().start()
    try:
        yield _versioned(Server(cluster.dsn, "local cluster"))
    finally:
        cluster.stop()


def _versioned(server: Server) -> Server:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        server.version = row[0] if row else "?"
    return server


_counter = itertools.count(1)


def _qualstats_loaded(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
    return bool(row and "pg_qualstats" in row[0])


def _hypopg_available(conn: psycopg.Connection[Any]) -> bool:
    return conn.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'hypopg'").fetchone() == (1,)


@pytest.fixture(autouse=True)
def _needs_hypopg(request: pytest.FixtureRequest) -> None:
    """Skip what-if tests on a server without HypoPG (e.g. the PostgreSQL 18 run: no build for it here)."""
    if "needs_qualstats" in request.keywords:
        server_q: Server = request.getfixturevalue("pg_server")
        with psycopg.connect(server_q.dsn, autocommit=True) as conn:
            if not _qualstats_loaded(conn):
                pytest.skip(f"pg_qualstats is not preloaded on PostgreSQL {server_q.version}")
    if "needs_hypopg" in request.keywords:
        server: Server = request.getfixturevalue("pg_server")
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            if not _hypopg_available(conn):
                pytest.skip(f"HypoPG is not installed for PostgreSQL {server.version}")


@pytest.fixture
def db(pg_server: Server, request: pytest.FixtureRequest) -> Iterator[str]:
    """DSN of a fresh database with pg_stat_statements and (if available) hypopg."""
    name = f"pgtune_t{os.getpid()}_{next(_counter)}"
    with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
        admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
    dsn = pg_server.dsn_for(name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements")
        if "no_hypopg" not in request.keywords and _hypopg_available(conn):
            conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
        if "no_qualstats" not in request.keywords and _qualstats_loaded(conn):
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_qualstats")
    try:
        yield dsn
    finally:
        with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
            admin.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                psycopg.sql.Identifier(name)))


@pytest.fixture
def conn(db: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(db, autocommit=True) as c:
        yield c


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "no_hypopg: the test database has no hypopg extension")
    config.addinivalue_line("markers", "needs_hypopg: what-if costing; skipped where HypoPG is not installed")
    config.addinivalue_line("markers", "no_qualstats: the test database has no pg_qualstats extension")
    config.addinivalue_line("markers", "needs_qualstats: skipped where pg_qualstats is not preloaded")
    # Started in the background of a non-interactive shell (nohup ... &, as a CI job may be), the suite inherits
    # SIGINT ignored, and Python then installs no handler of its own: _thread.interrupt_main, which the Ctrl-C
    # tests use, does nothing, and an apply waiting for a blocker the test holds until then waited for ever.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_report_header(config: pytest.Config) -> str:
    return (f"pgtune test server: PGTUNE_TEST_DSN={'set' if os.environ.get('PGTUNE_TEST_DSN') else 'unset'}; "
            "else testcontainers if Docker answers; else a local throwaway cluster")
