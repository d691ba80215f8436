"""r22: rollback after a build that failed must not drop an index of the same name pgtune did not build.

cb7b635 (p23) let rollback drop a VALID index whose OID this migration never recorded whenever the history's last row
for it was 'running', 'interrupted' or 'failed', so as to undo what a killed apply built. A build that failed (or was
interrupted) ended its row and dropped its own INVALID leftover: a valid index of that name found afterwards is
someone else's (the application's), and rollback dropped it, whatever its definition (PG15: the application's
index on another column, DROP INDEX CONCURRENTLY ran; before cb7b635 rollback left it, 'not created by this
migration').
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from pgtune.apply import Applier
from pgtune.errors import ApplyFailed

from .test_apply_safety import big_migration


def _failed_build(db: str, folder: Path) -> None:
    """apply whose first build fails on the server (its sort spills past temp_file_limit): a 'failed' row."""
    spills = make_conninfo(db, options="-c maintenance_work_mem=1MB -c temp_file_limit=64kB "
                                       "-c max_parallel_maintenance_workers=0")
    with psycopg.connect(spills, autocommit=True) as c:
        try:
            Applier(c, folder, backoff=0.05).apply()
        except ApplyFailed as exc:
            assert "temp_file_limit" in str(exc), exc
        else:
            raise AssertionError("the build did not fail")


def _defs(conn: psycopg.Connection[Any], name: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT pg_get_indexdef(c.oid) FROM pg_class AS c WHERE c.relname = %s",
                                       (name,)).fetchall()]


def test_rollback_after_a_failed_build_leaves_the_apps_index(db: str, conn: psycopg.Connection[Any],
                                                             tmp_path: Path) -> None:
    m = big_migration(conn, tmp_path / "mig", lock_timeout="60s")
    name = m.phases[0].indexes[0].name
    _failed_build(db, tmp_path / "mig")
    assert conn.execute("SELECT status FROM pgtune.history WHERE object LIKE %s ORDER BY id DESC LIMIT 1",
                        (f"%{name}%",)).fetchone() == ("failed",)
    assert _defs(conn, name) == []                  # the failed build's leftover was dropped
    conn.execute(psycopg.sql.SQL("CREATE INDEX {} ON events (amount)").format(psycopg.sql.Identifier(name)))
    report = Applier(conn, tmp_path / "mig", backoff=0.05).rollback()
    assert _defs(conn, name) == [f'CREATE INDEX "{name}" ON public.events USING btree (amount)'], report
    notes = [s.note for s in report.steps if name in s.statement]
    assert notes and "was not created by this migration" in notes[0], report


def test_rollback_after_a_failed_build_leaves_an_identical_index(db: str, conn: psycopg.Connection[Any],
                                                                 tmp_path: Path) -> None:
    """The same definition as planned: still not this migration's build (its run ended, its leftover gone)."""
    m = big_migration(conn, tmp_path / "mig", lock_timeout="60s")
    planned = m.phases[0].indexes[0]
    _failed_build(db, tmp_path / "mig")
    conn.execute(planned.ddl)
    assert len(_defs(conn, planned.name)) == 1
    Applier(conn, tmp_path / "mig", backoff=0.05).rollback()
    assert len(_defs(conn, planned.name)) == 1


def test_apply_after_a_failed_build_does_not_claim_the_apps_identical_index(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """apply again after the failed build: an identical index of the planned name, made meanwhile where a migration
    tool's ledger says the application makes indexes (Prisma names @@index([kind, amount]) events_kind_amount_idx as
    pgtune does), was taken as 'built by this migration' for the failed run's row, and rollback dropped it."""
    m = big_migration(conn, tmp_path / "mig", lock_timeout="60s")
    planned = m.phases[0].indexes[0]
    _failed_build(db, tmp_path / "mig")
    conn.execute("CREATE TABLE _prisma_migrations (id text PRIMARY KEY)")
    conn.execute(planned.ddl)                           # the application's deploy, exactly as planned
    report = Applier(conn, tmp_path / "mig", backoff=0.05).apply()
    [note] = [s.note for s in report.steps if planned.name in s.statement]
    assert "not pgtune's to adopt" in note, note
    Applier(conn, tmp_path / "mig", backoff=0.05).rollback()
    assert len(_defs(conn, planned.name)) == 1
