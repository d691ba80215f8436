"""A new user's DATABASE_URL points at a connection pooler (PgBouncer; Supavisor and Neon's -pooler hosts work alike).

Through a transaction pooler every transaction may run on another server session:
pgtune's hypothetical indexes, lock_timeout, advisory lock and prepared statements
stay behind on a backend the application then uses. Measured before the refusal
(PgBouncer 1.18, transaction mode, four application clients): ``apply`` built two of
a phase's indexes, failed on a missing prepared statement, recorded nothing, and
left its advisory lock on an application backend, so a later apply over the direct
URL waited on it. pgtune now refuses such a URL in one line (exit 2) and names the
direct one; session pooling keeps one server session per client and passes.

Real PostgreSQL and a real PgBouncer (Debian's ``pgbouncer``); skipped where the
machine has no ``pgbouncer`` binary.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.conninfo import conninfo_to_dict

from pgtune.cli import cli
from pgtune.cluster import free_port

from .helpers import ORDERS_BY_USER, run, shop

PGBOUNCER = shutil.which("pgbouncer") or next(
    (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.path.exists(p)), None)

pytestmark = pytest.mark.skipif(PGBOUNCER is None, reason="no pgbouncer binary on this machine "
                                "(Debian: apt-get install pgbouncer)")


class Bouncer:
    """One PgBouncer in ``mode`` in front of database ``dsn``, reached as postgresql://user@127.0.0.1:port/app."""

    def __init__(self, dsn: str, mode: str, ignore: str = "extra_float_digits,options") -> None:
        params = conninfo_to_dict(dsn)
        self.user = str(params.get("user") or os.environ.get("USER") or "postgres")
        self.dir = Path(tempfile.mkdtemp(prefix="pgtune-bouncer-"))
        self.port = free_port()
        target = " ".join(f"{k}={params[k]}" for k in ("host", "port", "dbname", "user", "password") if params.get(k))
        (self.dir / "users.txt").write_text(f'"{self.user}" ""\n')
        (self.dir / "pgbouncer.ini").write_text(
            f"[databases]\napp = {target}\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {self.port}\n"
            f"unix_socket_dir =\nauth_type = trust\nauth_file = {self.dir}/users.txt\npool_mode = {mode}\n"
            f"default_pool_size = 4\nquery_wait_timeout = 20\nlogfile = {self.dir}/pgbouncer.log\n"
            f"pidfile = {self.dir}/pgbouncer.pid\n"
            f"ignore_startup_parameters = {ignore}\n")
        as_root = os.geteuid() == 0      # PgBouncer will not run as root
        if as_root:
            shutil.chown(self.dir, "postgres", "postgres")
            for f in self.dir.iterdir():
                shutil.chown(f, "postgres", "postgres")
        cmd = [str(PGBOUNCER), "-d", str(self.dir / "pgbouncer.ini")]
        out = subprocess.run(["runuser", "-u", "postgres", "--", *cmd] if as_root else cmd,
                             capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError(f"pgbouncer did not start: {out.stderr.strip()}")
        self.pid = self._wait_pid()
        self.url = f"postgresql://{self.user}@127.0.0.1:{self.port}/app"

    def _wait_pid(self) -> int:
        for _ in range(100):
            pidfile = self.dir / "pgbouncer.pid"
            if pidfile.exists() and pidfile.read_text().strip():
                pid = int(pidfile.read_text().strip())
                try:
                    with psycopg.connect(f"host=127.0.0.1 port={self.port} user={self.user} dbname=app",
                                         connect_timeout=2):
                        return pid
                except psycopg.Error:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"pgbouncer did not answer: {(self.dir / 'pgbouncer.log').read_text(errors='replace')}")

    def stop(self) -> None:
        os.kill(self.pid, signal.SIGTERM)
        for _ in range(50):
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def bouncers(db: str) -> Iterator[dict[str, Bouncer]]:
    started: dict[str, Bouncer] = {}
    try:
        for mode in ("transaction", "session"):
            started[mode] = Bouncer(db, mode)
        started["strict"] = Bouncer(db, "session", ignore="extra_float_digits")   # refuses options=
        yield started
    finally:
        for b in started.values():
            b.stop()


def _indexes_and_locks(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    row = conn.execute("SELECT (SELECT count(*) FROM pg_index WHERE indrelid = '\"order\"'::regclass), "
                       "(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory')").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _refused(url: str, *command: str) -> None:
    result = CliRunner().invoke(cli, list(command), env={"DATABASE_URL": url})
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (command, result.output)
    assert len(lines) == 1 and "transaction pooler" in lines[0] and "directUrl" in lines[0], (command, lines)
    assert result.stdout == "", command


def test_transaction_pooler_refused_by_the_reading_commands(bouncers: dict[str, Bouncer]) -> None:
    """Without HypoPG too (the PostgreSQL 18 run): the refusal comes before anything is read."""
    for command in (["check"], ["suggest"], ["health"], ["config"]):
        _refused(bouncers["transaction"].url, *command)


@pytest.mark.needs_hypopg
def test_transaction_pooler_refused_in_one_line_before_anything_runs(
        db: str, conn: psycopg.Connection[Any], bouncers: dict[str, Bouncer], tmp_path: Path) -> None:
    shop(conn)
    run(conn, ORDERS_BY_USER, [(u,) for u in range(1, 50)], times=40)
    mig = tmp_path / "mig"
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--emit", str(mig), "--no-constraints"])
    assert result.exit_code == 0, result.output
    before = _indexes_and_locks(conn)
    pooled = bouncers["transaction"].url          # as Neon and Supabase give it: no pgbouncer=true
    for command in (["apply", str(mig)], ["status", str(mig)], ["verify", str(mig)], ["rollback", str(mig)]):
        _refused(pooled, *command)
    # Nothing built, nothing recorded, no advisory lock left on a pooled backend.
    assert _indexes_and_locks(conn) == before
    assert conn.execute("SELECT to_regclass('pgtune.history')").fetchone() == (None,)


@pytest.mark.needs_hypopg
def test_session_pooler_is_safe_and_applies(db: str, conn: psycopg.Connection[Any],
                                            bouncers: dict[str, Bouncer], tmp_path: Path) -> None:
    shop(conn)
    run(conn, ORDERS_BY_USER, [(u,) for u in range(1, 50)], times=40)
    pooled = bouncers["session"].url
    mig = tmp_path / "mig"
    result = CliRunner().invoke(cli, ["suggest", "--emit", str(mig), "--no-constraints"],
                                env={"DATABASE_URL": pooled})
    assert result.exit_code == 0, result.output
    assert '"userId"' in result.stdout
    indexes, _ = _indexes_and_locks(conn)
    result = CliRunner().invoke(cli, ["apply", str(mig)], env={"DATABASE_URL": pooled})
    assert result.exit_code == 0, result.output
    assert _indexes_and_locks(conn) == (indexes + 1, 0)
    assert conn.execute("SELECT bool_and(indisvalid) FROM pg_index WHERE indrelid = '\"order\"'::regclass"
                        ).fetchone() == (True,)


def test_prisma_schema_reaches_the_session_through_a_session_pooler(
        conn: psycopg.Connection[Any], bouncers: dict[str, Bouncer]) -> None:
    """?schema= was sent as the startup parameter options=-c search_path=…: a PgBouncer that ignores it (its
    docs' advice for clients sending it) dropped it silently, unqualified names resolved nowhere ("references
    no known table"); one that does not ignore it refused the connection."""
    conn.execute('CREATE SCHEMA "Shop Data"')
    conn.execute('CREATE TABLE "Shop Data".items (id int PRIMARY KEY, sku text NOT NULL)')
    conn.execute('INSERT INTO "Shop Data".items SELECT g, \'s\' || g FROM generate_series(1, 20000) g')
    conn.execute('ANALYZE "Shop Data".items')
    for name in ("session", "strict"):
        url = bouncers[name].url + "?schema=Shop%20Data&connection_limit=5"
        out = CliRunner().invoke(cli, ["suggest", "--format", "json", "--min-rows", "0", "--no-constraints",
                                       "--queries", "-"], env={"DATABASE_URL": url},
                                 input="SELECT id FROM items WHERE sku = 's77';")
        assert out.exit_code == 0, (name, out.stderr)
        assert '"table": "items"' in out.stdout and '"schema": "Shop Data"' in out.stdout, (name, out.stdout)


def test_a_full_session_pool_is_not_refused(db: str, bouncers: dict[str, Bouncer]) -> None:
    """The probe's second connection waited for a server session the full pool never freed: PgBouncer's
    query_wait_timeout (120 s by default, 20 here) and then a refusal of a safe session pooler."""
    pooled = bouncers["session"]
    held = [psycopg.connect(f"host=127.0.0.1 port={pooled.port} user={pooled.user} dbname=app", autocommit=True)
            for _ in range(3)]                  # with pgtune's own session: the pool's 4
    try:
        for c in held:
            c.execute("SELECT 1")
        started = time.monotonic()
        result = CliRunner().invoke(cli, ["check"], env={"DATABASE_URL": pooled.url})
        took = time.monotonic() - started
    finally:
        for c in held:
            c.close()
    assert result.exit_code in (0, 1), result.stderr
    assert "transaction pooler" not in result.stderr and "second connection" not in result.stderr
    assert took < 15, took


def test_behind_a_session_pooler_suggest_takes_one_session_by_default(
        db: str, bouncers: dict[str, Bouncer], monkeypatch: pytest.MonkeyPatch) -> None:
    """u9: the default --jobs came from the server's cores and max_connections, which say nothing of the pool's few
    server sessions the application shares; through a pooler it is one. Asked for, more are still given."""
    from pgtune.analyze import pool

    monkeypatch.setattr(pool.os, "cpu_count", lambda: 8)          # a server with cores to spare
    with psycopg.connect(bouncers["session"].url, autocommit=True) as conn:
        assert pool.pooled(conn)
        assert pool.jobs_for(conn, None) == pool.Jobs(1)
        assert pool.jobs_for(conn, 3).count == min(3, pool.jobs_for(conn, 100).count)
        # r8: asked for more than one behind the pooler, suggest says what they take from the application.
        assert "behind a session pooler" in pool.jobs_for(conn, 2).note
        assert pool.jobs_for(conn, 1).note == ""
        # p11: lowered to the server's headroom, the note said nothing of the pool (a pool of 3 under 4 sessions).
        capped = pool.jobs_for(conn, 100)
        assert capped.note.startswith("--jobs 100 lowered") and "behind a session pooler" in capped.note, capped
    with psycopg.connect(db, autocommit=True) as direct:
        assert not pool.pooled(direct)
        assert "pooler" not in pool.jobs_for(direct, 2).note
