"""A base backup in progress is not a standby, for a role that may not read pg_stat_replication's state either.

check's ``standbys`` (and apply's and rollback's note that a DROP INDEX replays an ACCESS EXCLUSIVE lock there)
count the physical replication connections streaming from the server, less a base backup's (state 'backup').
pg_stat_replication hides ``state`` from a role without pg_read_all_stats (the application's owner, say): a
pg_basebackup then read as a standby (r18), and check said "1 standby connection(s) stream from this server".
pg_basebackup names itself in application_name, which that role does see.
"""

from __future__ import annotations

import subprocess
import time

import psycopg
from psycopg import sql

from pgtune import catalog_sql
from pgtune.cluster import LocalCluster


def test_a_base_backup_is_not_a_standby_for_a_role_without_read_all_stats() -> None:
    primary = LocalCluster(settings={"listen_addresses": "''"}).start()
    backup = None
    try:
        with psycopg.connect(primary.dsn, autocommit=True) as c:
            c.execute("CREATE TABLE filler (id int, pad text)")
            c.execute("INSERT INTO filler SELECT g, repeat('x', 500) FROM generate_series(1, 40000) g")
            c.execute("CHECKPOINT")
            c.execute(sql.SQL("CREATE ROLE owner_r18 LOGIN"))
        # Slowed to 32 kB/s: still copying while the counts are read; this test's own process, stopped below.
        backup = subprocess.Popen([str(primary.bindir / "pg_basebackup"), "-D", str(primary.root / "copy"),
                                   "-X", "none", "--max-rate=32k", "-h", str(primary.root), "-p",
                                   str(primary.port), "-U", primary.user],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with psycopg.connect(primary.dsn, autocommit=True) as c:
            for _ in range(200):
                row = c.execute("SELECT count(*) FROM pg_stat_replication WHERE state = 'backup'").fetchone()
                if row and row[0]:
                    break
                time.sleep(0.05)
            assert row and row[0] == 1, "no base backup seen"
            assert c.execute(catalog_sql.load("streaming_standbys")).fetchone() == (0,)
        with psycopg.connect(primary.dsn, user="owner_r18", autocommit=True) as owner:
            hidden = owner.execute("SELECT state FROM pg_stat_replication").fetchall()
            assert hidden == [(None,)], hidden         # what this role sees of it
            assert owner.execute(catalog_sql.load("streaming_standbys")).fetchone() == (0,)
            row = owner.execute(catalog_sql.load("server_capabilities")).fetchone()
            assert row is not None and row[-1] == 0, row
    finally:
        if backup is not None:
            backup.terminate()
            backup.wait(30)
        primary.stop()
