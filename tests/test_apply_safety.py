"""apply on a live, busy database: crashes, blockers and progress."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import plan
from pgtune.apply import Applier, check_version
from pgtune.errors import UnsupportedServer

from .helpers import emitted, writer_latencies

BIG = """
CREATE TABLE events (id bigint PRIMARY KEY, "accountId" int NOT NULL, kind int NOT NULL,
                     "createdAt" timestamptz NOT NULL, amount int NOT NULL);
INSERT INTO events SELECT g, g % 20000, g % 37, now() - g * interval '1 second', g % 1000
FROM generate_series(1, 400000) AS g;
"""

QUERIES = """
SELECT id FROM events WHERE "accountId" = 7 ORDER BY "createdAt" DESC LIMIT 10;
SELECT count(*) FROM events WHERE kind = 3 AND amount > 990;
SELECT id FROM events WHERE "createdAt" > now() - interval '1 hour' ORDER BY "createdAt";
"""


def big_migration(conn: psycopg.Connection[Any], folder: Path, lock_timeout: str = "5s") -> plan.Migration:
    conn.execute(BIG)
    conn.execute("VACUUM ANALYZE events")
    result = emitted(conn, folder, QUERIES, lock_timeout=lock_timeout)
    assert len(result.indexes.indexes) == 3
    assert result.migration is not None
    return result.migration


def invalid_indexes(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone()
    return int(row[0]) if row else -1


def converge(db: str, folder: Path, m: plan.Migration, rng: random.Random, window: float) -> tuple[bool, int]:
    """Apply, kill the applying backend at a random moment, re-apply: it must converge."""
    errors: list[BaseException] = []
    pid: list[int] = []

    def victim() -> None:
        with psycopg.connect(db, autocommit=True) as c:
            pid.append(c.info.backend_pid)
            try:
                Applier(c, folder, backoff=0.05).apply()
            except BaseException as exc:
                errors.append(exc)

    t = threading.Thread(target=victim)
    t.start()
    time.sleep(rng.uniform(0.0, window))
    with psycopg.connect(db, autocommit=True) as killer:
        while not pid:
            time.sleep(0.001)
        killer.execute("SELECT pg_terminate_backend(%s)", (pid[0],))
    t.join()
    with psycopg.connect(db, autocommit=True) as c:
        left_invalid = invalid_indexes(c)
        Applier(c, folder, backoff=0.05).apply()
        assert invalid_indexes(c) == 0
        names = {ix.name for p in m.phases for ix in p.indexes}
        valid = c.execute("SELECT count(*) FROM pg_indexes WHERE indexname = ANY(%s)", (list(names),)).fetchone()
        assert valid == (len(names),)
        assert c.execute("SELECT count(*) FROM pgtune.history WHERE status = 'running'").fetchone() == (0,)
        states = c.execute("SELECT phase, status FROM pgtune.phases ORDER BY phase").fetchall()
        assert states == [(p.number, "applied") for p in m.phases]
        # History is consistent: every planned CREATE INDEX has a final done/skipped row.
        done = c.execute("SELECT count(DISTINCT statement) FROM pgtune.history WHERE direction = 'up' "
                         "AND statement LIKE 'CREATE INDEX%%' AND status IN ('done', 'skipped')").fetchone()
        assert done == (len(names),)
        Applier(c, folder).rollback()
        assert invalid_indexes(c) == 0
    return bool(errors), left_invalid


def _fault_runs(db: str, conn: psycopg.Connection[Any], tmp_path: Path, runs: int) -> None:
    m = big_migration(conn, tmp_path / "mig")
    started = time.monotonic()
    Applier(conn, tmp_path / "mig").apply()   # how long a clean apply takes sets the kill window
    window = max(0.8 * (time.monotonic() - started), 0.2)   # kills land while apply still runs
    Applier(conn, tmp_path / "mig").rollback()
    rng = random.Random(20261122)
    outcomes = [converge(db, tmp_path / "mig", m, rng, window) for _ in range(runs)]
    # The test means something only if the kills really landed mid-apply.
    assert sum(interrupted for interrupted, _ in outcomes) >= runs // 2, outcomes


def test_fault_injection_converges(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    _fault_runs(db, conn, tmp_path, runs=5)


@pytest.mark.slow
def test_fault_injection_converges_many_times(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    _fault_runs(db, conn, tmp_path, runs=20)


def test_blocker_makes_apply_retry_and_never_queues_writers(db: str, conn: psycopg.Connection[Any],
                                                            tmp_path: Path) -> None:
    big_migration(conn, tmp_path / "mig", lock_timeout="300ms")
    blocker = psycopg.connect(db)
    blocker.execute("ANALYZE events")          # holds SHARE UPDATE EXCLUSIVE until commit

    def write(w: psycopg.Connection[Any], i: int) -> None:
        w.execute("INSERT INTO events VALUES (%s, 1, 1, now(), 1)", (i,))
        w.execute("SELECT count(*) FROM events WHERE id = %s", (i,))

    threading.Timer(1.5, blocker.commit).start()   # the blocker goes away after a while
    try:
        with writer_latencies(db, write) as latencies:
            report = Applier(conn, tmp_path / "mig", retries=8, backoff=0.2).apply()
    finally:
        blocker.close()
    assert report.phases_run
    timeouts = conn.execute("SELECT count(*) FROM pgtune.history WHERE status = 'failed' "
                            "AND error LIKE '%%lock timeout%%'").fetchone()
    assert timeouts is not None and timeouts[0] >= 1
    assert invalid_indexes(conn) == 0
    assert latencies and max(latencies) < 0.3, f"a writer waited {max(latencies):.3f}s"


def test_apply_gives_up_after_bounded_retries(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    big_migration(conn, tmp_path / "mig", lock_timeout="100ms")
    blocker = psycopg.connect(db)
    blocker.execute("ANALYZE events")
    try:
        from pgtune.errors import ApplyFailed

        with pytest.raises(ApplyFailed, match="gave up after 2 lock timeouts"):
            Applier(conn, tmp_path / "mig", retries=2, backoff=0.05).apply()
    finally:
        blocker.rollback()
        blocker.close()
    assert invalid_indexes(conn) == 0
    assert conn.execute("SELECT status FROM pgtune.phases WHERE phase = 1").fetchone() == ("failed",)
    Applier(conn, tmp_path / "mig").apply()   # a plain re-run finishes the job
    assert invalid_indexes(conn) == 0


def test_long_transaction_is_warned_about(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    big_migration(conn, tmp_path / "mig")
    idle = psycopg.connect(db)
    idle.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    idle.execute("SELECT 1")                  # an idle-in-transaction session holding its snapshot
    try:
        report = Applier(conn, tmp_path / "mig", long_transaction_seconds=0).apply(dry_run=True)
    finally:
        idle.close()
    assert any("concurrent index builds will wait" in w for w in report.warnings)


def test_build_progress_is_reported(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    big_migration(conn, tmp_path / "mig")
    messages: list[str] = []
    Applier(conn, tmp_path / "mig", progress=messages.append, monitor_dsn=db, monitor_interval=0.02).apply()
    assert any(m.startswith("building ") and "%" in m for m in messages), messages


@pytest.mark.parametrize("version,refused", [(140000, True), (140003, True), (140004, False),
                                             (130010, False), (150018, False)])
def test_postgres_14_0_to_14_3_is_refused(version: int, refused: bool) -> None:
    if refused:
        with pytest.raises(UnsupportedServer, match="fixed in 14.4"):
            check_version(version)
    else:
        check_version(version)


def test_cli_shows_progress_on_a_terminal_only(db: str, conn: psycopg.Connection[Any], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    import pgtune.apply
    import pgtune.cli.shell
    from pgtune.cli import cli

    big_migration(conn, tmp_path / "mig")
    quiet = CliRunner().invoke(cli, ["apply", str(tmp_path / "mig"), "--dsn", db])
    assert quiet.exit_code == 0 and quiet.stderr == ""          # captured in-process: no progress chatter (v39)
    CliRunner().invoke(cli, ["rollback", str(tmp_path / "mig"), "--dsn", db])
    monkeypatch.setattr(pgtune.cli.shell, "stderr_is_tty", lambda: True)
    original = pgtune.apply.BuildMonitor.__init__

    def fast(self, dsn, pid, name, say, interval):  # type: ignore[no-untyped-def]
        original(self, dsn, pid, name, say, 0.02)

    monkeypatch.setattr(pgtune.apply.BuildMonitor, "__init__", fast)
    loud = CliRunner().invoke(cli, ["apply", str(tmp_path / "mig"), "--dsn", db])
    assert loud.exit_code == 0
    assert "… phase 1 up:" in loud.stderr
    assert "… building " in loud.stderr, loud.stderr


def test_a_role_that_cannot_create_the_history_schema_is_told_what_it_needs(db: str, conn: psycopg.Connection[Any],
                                                                             tmp_path: Path) -> None:
    """u2's R4: "permission denied for database" alone does not say which grant apply needs."""
    from click.testing import CliRunner
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from pgtune.cli import cli

    from .test_migration import emit

    emit(conn, tmp_path / "mig")
    role = f"deployer_{conninfo_to_dict(db)['dbname']}"
    conn.execute(f"DROP ROLE IF EXISTS {role}")
    conn.execute(f"CREATE ROLE {role} LOGIN")
    out = CliRunner().invoke(cli, ["apply", str(tmp_path / "mig"), "--dsn", make_conninfo(db, user=role)])
    assert out.exit_code == 2, out.output
    [line] = out.stderr.strip().splitlines()
    assert "permission denied" in line and "GRANT CREATE ON DATABASE" in line and f'TO "{role}"' in line, line
    assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgtune'").fetchone() == (0,)
