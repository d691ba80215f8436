"""pgtune health --emit on a real server: a migration that fixes the findings, applies, verifies, rolls back.

The rollback of a drop phase must give back a schema pg_dump cannot tell from
the original, for every kind of index DBAs build, on tables whose names need
quoting.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune import api, plan
from pgtune.apply import Applier
from pgtune.cli import cli
from pgtune.errors import ApplyFailed

from .helpers import writer_latencies
from .test_health import plant
from .test_hostile_names import _dump
from .test_migration import squawk_bin


def kinds(table: str, prefix: str) -> str:
    """One index of every kind a DBA builds, on ``table`` (a quoted name), named ``<prefix>_…``."""
    return f"""
CREATE TABLE {table} (id bigint PRIMARY KEY, "userId" bigint NOT NULL, kind text NOT NULL,
                      "createdAt" timestamptz NOT NULL, payload jsonb, email text, total numeric);
INSERT INTO {table} SELECT g, g % 100, CASE WHEN g % 10 = 0 THEN 'click' ELSE 'view' END,
    timestamptz '2026-01-01' + g * interval '1 minute', '{{}}', 'u' || g || '@x.org', g FROM generate_series(1, 3000) g;
CREATE INDEX "{prefix}_userId_idx" ON {table} ("userId");                                        -- plain
CREATE INDEX "{prefix}_click_idx" ON {table} ("createdAt") WHERE kind = 'click';                -- partial
CREATE INDEX "{prefix}_lower_email_idx" ON {table} (lower(email));                              -- expression
CREATE INDEX "{prefix}_userId_incl_idx" ON {table} ("userId", "createdAt") INCLUDE (kind);      -- INCLUDE
CREATE INDEX "{prefix}_createdAt_desc_idx" ON {table} ("createdAt" DESC NULLS LAST);            -- DESC
CREATE INDEX "{prefix}_email_pattern_idx" ON {table} (email text_pattern_ops);                  -- opclass
CREATE INDEX "{prefix}_kind_c_idx" ON {table} (kind COLLATE "C");                               -- collation
CREATE INDEX "{prefix}_payload_idx" ON {table} USING gin (payload jsonb_path_ops) WITH (fastupdate = off);
CREATE INDEX "{prefix}_total_idx" ON {table} (total) WITH (fillfactor = 70);                    -- storage
"""


KINDS = kinds('"userEvents"', "userEvents") + kinds('"order"', "order") + """
COMMENT ON INDEX order_total_idx IS 'for the it''s-a-report query';
ALTER INDEX "userEvents_lower_email_idx" ALTER COLUMN 1 SET STATISTICS 500;
ALTER TABLE "order" CLUSTER ON "order_userId_idx";
ANALYZE;
"""
KIND_INDEXES = {f"{prefix}_{kind}" for prefix in ("userEvents", "order")
                for kind in ("userId_idx", "click_idx", "lower_email_idx", "userId_incl_idx", "createdAt_desc_idx",
                             "email_pattern_idx", "kind_c_idx", "payload_idx", "total_idx")}


def indexes(conn: psycopg.Connection[Any]) -> set[str]:
    return {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}


def cli_ok(*args: str) -> Any:
    out = CliRunner().invoke(cli, list(args))
    assert out.exit_code in (0, 1), out.output
    return out


def test_drop_and_rollback_restores_every_kind_of_index_exactly(db: str, conn: psycopg.Connection[Any],
                                                                 tmp_path: Path) -> None:
    conn.execute(KINDS)
    original = _dump(db)
    folder = tmp_path / "health"
    out = cli_ok("health", "--dsn", db, "--check", "unused-index", "--min-stats-age", "0", "--emit", str(folder))
    assert out.exit_code == 1 and "wrote migration" in out.stderr
    m = plan.load(folder)
    [drops] = m.phases
    assert drops.step == plan.PhaseStep.DROP_INDEXES
    assert {e.name for e in drops.existing} == KIND_INDEXES          # never a primary key
    down = (folder / drops.down_file).read_text()
    assert "TABLESPACE" not in down and "COMMENT ON INDEX public.order_total_idx IS 'for the it''s-a-report query'" \
        in down
    assert 'ALTER INDEX public."userEvents_lower_email_idx" ALTER COLUMN 1 SET STATISTICS 500' in down
    assert 'ALTER TABLE public."order" CLUSTER ON "order_userId_idx"' in down

    for _ in range(2):                                       # twice: a rolled-back migration applies again
        assert cli_ok("apply", str(folder), "--dsn", db).exit_code == 0
        assert indexes(conn) == {"userEvents_pkey", "order_pkey"}
        status = json.loads(cli_ok("status", str(folder), "--dsn", db, "--format", "json").stdout)
        assert status["ok"] is True
        assert cli_ok("rollback", str(folder), "--dsn", db).exit_code == 0
        assert _dump(db) == original


def test_rollback_rebuilds_an_index_in_its_tablespace(db: str, conn: psycopg.Connection[Any],
                                                      tmp_path: Path) -> None:
    """pg_get_indexdef leaves the tablespace out; the down script must not."""
    datadir = Path(conn.execute("SHOW data_directory").fetchone()[0])   # type: ignore[index]
    location = Path(tempfile.mkdtemp(prefix="pgtune-ts-"))   # pytest's own folders are private to us
    space = f"pgtune_ts_{os.getpid()}"
    try:
        os.chown(location, datadir.stat().st_uid, -1)
        conn.execute(f"CREATE TABLESPACE {space} LOCATION '{location}'")
    except (OSError, psycopg.errors.InsufficientPrivilege) as exc:
        shutil.rmtree(location, ignore_errors=True)
        pytest.skip(f"cannot create a tablespace on this server from here: {exc}")
    try:
        conn.execute(f'CREATE TABLE "tsTable" (id int PRIMARY KEY, "userId" int); '
                     f'CREATE INDEX "tsTable_userId_idx" ON "tsTable" ("userId") TABLESPACE {space}')
        original = _dump(db)
        api.health(conn, only=["unused-index"], min_stats_age_s=0, emit=api.EmitOptions(directory=tmp_path / "h"))
        assert f"TABLESPACE {space}" in (tmp_path / "h" / "01_down.sql").read_text()
        Applier(conn, tmp_path / "h").apply()
        assert "tsTable_userId_idx" not in indexes(conn)
        Applier(conn, tmp_path / "h").rollback()
        assert _dump(db) == original
    finally:
        conn.execute('DROP TABLE IF EXISTS "tsTable"')
        conn.execute(f"DROP TABLESPACE {space}")
        shutil.rmtree(location, ignore_errors=True)


def test_apply_refuses_an_index_changed_since_emit(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(KINDS)
    api.health(conn, only=["unused-index"], min_stats_age_s=0, emit=api.EmitOptions(directory=tmp_path / "h"))
    conn.execute("DROP INDEX order_total_idx")
    conn.execute('CREATE INDEX order_total_idx ON "order" (total DESC)')     # same name, another index
    try:
        Applier(conn, tmp_path / "h").apply()
        raise AssertionError("apply dropped an index it did not review")
    except ApplyFailed as exc:
        assert "order_total_idx" in str(exc) and "changed since emit" in str(exc)
    assert "order_total_idx" in indexes(conn)


def test_every_fixable_finding_in_one_migration(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """Foreign-key index, rebuilds, VALIDATE and drops: phases in that order, squawk-clean, applied and undone."""
    plant(conn)
    conn.execute("DELETE FROM dupes WHERE ctid = (SELECT max(ctid) FROM dupes)")   # the DBA's part: the data
    before = indexes(conn)
    report = api.health(conn, min_stats_age_s=0, emit=api.EmitOptions(directory=tmp_path / "h"))
    assert report.migration is not None
    m = plan.load(tmp_path / "h")
    assert [p.step for p in m.phases] == [plan.PhaseStep.INDEXES, plan.PhaseStep.REBUILD,
                                          plan.PhaseStep.VALIDATE_EXISTING, plan.PhaseStep.DROP_INDEXES]
    assert any("sequence-near-overflow" in line for line in report.migration.left_out)
    files = [str(tmp_path / "h" / f) for p in m.phases for f in (p.up_file, p.down_file)]
    lint = subprocess.run([squawk_bin(), f"--pg-version={conn.info.server_version // 10000}", *files],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr

    Applier(conn, tmp_path / "h").apply()
    assert Applier(conn, tmp_path / "h").status().ok
    after = api.health(conn, skip=["stale-statistics"], min_stats_age_s=0)
    # The sequence has no migration fix; the foreign-key index just built has no scan yet, but a
    # foreign key needs it, so unused-index leaves it alone.
    assert {f.check for f in after.findings} == {"sequence-near-overflow"}
    assert conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'dupes_a_key'::regclass"
                        ).fetchone() == (True,)
    assert conn.execute("SELECT convalidated FROM pg_constraint WHERE conname = 'order_id_positive'"
                        ).fetchone() == (True,)
    again = Applier(conn, tmp_path / "h").apply()
    assert not again.changed
    Applier(conn, tmp_path / "h").rollback()
    assert indexes(conn) == before          # the drops are back, the foreign-key index is gone


@pytest.mark.needs_qualstats
def test_verify_guards_the_statements_that_used_a_dropped_index(db: str, conn: psycopg.Connection[Any],
                                                                tmp_path: Path) -> None:
    conn.execute(KINDS)
    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    conn.execute('CREATE INDEX "userEvents_kind_idx" ON "userEvents" (kind)')
    conn.execute('CREATE INDEX "userEvents_kind_createdAt_idx" ON "userEvents" (kind, "createdAt")')
    conn.execute('UPDATE "userEvents" SET kind = %s WHERE id %% 100 = 0', ("rare",))
    conn.execute('ANALYZE "userEvents"')
    conn.execute("SELECT pg_stat_statements_reset()")
    conn.execute('SELECT id FROM "userEvents" WHERE kind = %s', ("rare",)).fetchall()
    conn.execute('SELECT count(*) FROM "userEvents" WHERE lower(email) = %s', ("u7@x.org",)).fetchone()

    # The narrow index is dropped; its statement used it, and the wider one serves it about as well.
    api.health(conn, only=["overlapping-index"], emit=api.EmitOptions(directory=tmp_path / "overlap"))
    m = plan.load(tmp_path / "overlap")
    assert [e.name for e in m.phases[0].existing] == ["order_userId_idx", "userEvents_kind_idx",
                                                      "userEvents_userId_idx"]
    [guard] = m.targets                               # no statement read by userId
    assert "kind" in guard.query and guard.dropped_indexes == ["userEvents_kind_idx"]
    assert guard.values == {"$1": "rare"}, guard.scenarios    # valued as suggest values it (u2's R2)
    Applier(conn, tmp_path / "overlap").apply()
    # Planned with the value the workload ran it with ('rare', 30 rows), the wider index serves it at the same
    # cost. (Its generic plan, all guards had before, made it ~15% dearer: a regression no call of it sees.)
    ok = CliRunner().invoke(cli, ["verify", str(tmp_path / "overlap"), "--dsn", db, "--measure"])
    assert ok.exit_code == 0, ok.output
    assert "userEvents_kind_idx (dropped)" in ok.output and "measured 1 of 1 statements now" in ok.output

    # The index counters start again (as after a reset): every index looks unused, the statements
    # remain; the lookup by lower(email) loses its only index, and verify says so.
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.execute("SELECT 1")
    conn.execute("SELECT pg_stat_reset()")
    api.health(conn, only=["unused-index"], min_stats_age_s=0, emit=api.EmitOptions(directory=tmp_path / "unused"))
    m = plan.load(tmp_path / "unused")
    guards = {t.query: t.dropped_indexes for t in m.targets}
    by_email = next(q for q in guards if "lower" in q)
    assert guards[by_email] == ["userEvents_lower_email_idx"]
    Applier(conn, tmp_path / "unused").apply()
    out = CliRunner().invoke(cli, ["verify", str(tmp_path / "unused"), "--dsn", db])
    assert out.exit_code == 1, out.output
    assert "regression" in out.output and "userEvents_lower_email_idx (dropped)" in out.output


def test_apply_under_write_load_never_blocks_writers(db: str, conn: psycopg.Connection[Any],
                                                     tmp_path: Path) -> None:
    plant(conn)
    conn.execute("DELETE FROM dupes WHERE ctid = (SELECT max(ctid) FROM dupes)")
    api.health(conn, min_stats_age_s=0, emit=api.EmitOptions(directory=tmp_path / "h", lock_timeout="300ms"))
    blocker = psycopg.connect(db)
    blocker.execute('ANALYZE "order"')          # holds SHARE UPDATE EXCLUSIVE until commit: VALIDATE must wait

    def write(w: psycopg.Connection[Any], i: int) -> None:
        w.execute('INSERT INTO "order" (id, "parentId", status) VALUES (%s, 1, %s)', (i, "paid"))
        w.execute('UPDATE "userOrders" SET note = %s WHERE id = %s', (str(i), i % 2000))
        w.execute("INSERT INTO shrunk VALUES (%s)", (i,))

    threading.Timer(1.5, blocker.commit).start()
    try:
        with writer_latencies(db, write, pause=0.005) as latencies:
            report = Applier(conn, tmp_path / "h", retries=8, backoff=0.2).apply()
    finally:
        blocker.close()
    assert report.phases_run == [1, 2, 3, 4]
    timeouts = conn.execute("SELECT count(*) FROM pgtune.history WHERE status = 'failed' "
                            "AND error LIKE '%%lock timeout%%'").fetchone()
    assert timeouts is not None and timeouts[0] >= 1            # the blocker really was in the way
    assert len(latencies) > 20
    assert max(latencies) < 0.3, f"a writer waited {max(latencies):.3f}s"
    assert conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone() == (0,)


@pytest.mark.parametrize("watched", [True, False])
def test_a_timed_out_reindex_leaves_no_ccnew_copy(db: str, conn: psycopg.Connection[Any], tmp_path: Path,
                                                  watched: bool) -> None:
    """REINDEX CONCURRENTLY builds <name>_ccnew, then waits for older transactions. A writer's transaction open
    when apply reaches it is waited for before the REINDEX starts (apply.waits: whatever its age, since p14 F3), so
    the REINDEX neither waits for it nor is cut by lock_timeout, watched from a second connection or not: one
    REINDEX, no copy left. A writer is never held up."""
    plant(conn)
    api.health(conn, only=["bloated-index"], emit=api.EmitOptions(directory=tmp_path / "h", lock_timeout="300ms"))
    assert plan.load(tmp_path / "h").phases[0].step == plan.PhaseStep.REBUILD
    blocker = psycopg.connect(db)
    blocker.execute("INSERT INTO shrunk VALUES (-1)")   # an open transaction on the table
    threading.Timer(2.0, blocker.commit).start()
    applier = Applier(conn, tmp_path / "h", retries=10, backoff=0.2)
    if not watched:
        applier.watch_dsn = None
    started = time.monotonic()
    try:
        applier.apply()
    finally:
        blocker.close()
    elapsed = time.monotonic() - started
    failures = conn.execute("SELECT count(*) FROM pgtune.history WHERE status = 'failed' "
                            "AND statement LIKE 'REINDEX%%'").fetchone()
    done = conn.execute("SELECT duration_ms FROM pgtune.history WHERE status = 'done' AND statement LIKE 'REINDEX%%'"
                        ).fetchall()
    assert failures == (0,) and len(done) == 1 and done[0][0] < 1000, done   # one REINDEX, that did not wait
    assert elapsed >= 1.5                                                    # apply waited for the writer first
    assert conn.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'shrunk'::regclass"
                        ).fetchall() == [("shrunk_id_idx",)]      # no _ccnew (or _ccold) copy is left
    assert conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'shrunk_id_idx'::regclass"
                        ).fetchone() == (True,)
    assert api.health(conn, only=["bloated-index"]).findings == []
