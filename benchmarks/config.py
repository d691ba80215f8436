"""pgtune config: one load with PostgreSQL's default settings, then with pgtune's, on the same cluster.

A throwaway cluster starts with PostgreSQL's defaults (shared_buffers 128MB,
max_connections 100, max_wal_size 1GB, work_mem 4MB, autovacuum at 20% dead;
fsync off as everywhere on a throwaway cluster). The load is an application's
day in small: a reporting role's sorts, a write burst, an update churn over a
large table, orders paid one by one (each row grows by its payment
reference). pgtune config reads the evidence of that run, its migration is
applied, the data is reset to the same start (TRUNCATE and reload: the
tables keep their new storage parameters), and the same load runs again.
Printed side by side: temporary bytes, requested checkpoints, dead tuples at
the end (after a settle of --settle seconds, autovacuum's naptime and more),
the share of HOT updates, and the load's throughput. Then the migration is
rolled back and the settings are checked to be as they were.

    python benchmarks/config.py [--scale 1.0] [--settle 70]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from tabulate import tabulate

from pgtune import api
from pgtune.cluster import LocalCluster
from pgtune.config import ConfigOptions, evidence

DEFAULTS = {"shared_buffers": "128MB", "max_connections": "100", "full_page_writes": "on"}

SCHEMA = """
CREATE TABLE facts (id bigint, label text);
CREATE TABLE events (id bigint, payload text);
CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, note text);
CREATE TABLE orders (id int PRIMARY KEY, status text NOT NULL, total int, payment_ref text);
"""


def load_data(conn: psycopg.Connection[Any], n: int) -> None:
    conn.execute("TRUNCATE facts, events, accounts, orders")
    conn.execute("INSERT INTO facts SELECT g, md5(g::text) FROM generate_series(1, %s::int) g", (n,))
    conn.execute("INSERT INTO accounts SELECT g, 0, md5(g::text) FROM generate_series(1, %s::int) g", (n,))
    conn.execute("VACUUM ANALYZE facts, accounts")
    conn.execute("CHECKPOINT")


def run_load(dsn: str, n: int) -> tuple[int, float]:
    """The load; returns (transactions, seconds)."""
    start = time.monotonic()
    tx = 0
    with psycopg.connect(dsn, autocommit=True, user="reporter") as r:
        for _ in range(3):
            r.execute("SELECT count(*) FROM (SELECT label FROM facts WHERE id % 2 = 0 ORDER BY label OFFSET 1) s"
                      ).fetchone()
            tx += 1
    with psycopg.connect(dsn, autocommit=True) as c:
        for lo in range(0, 5 * n, n // 2):   # a write burst (about 1.5 GB of WAL at scale 1), in ten statements
            c.execute("INSERT INTO events SELECT g, repeat(md5(g::text), 8) FROM generate_series(%s::int, %s::int) g",
                      (lo + 1, lo + n // 2))
            tx += 1
        churn = int(n * 0.15)                 # 15% of the accounts updated: under autovacuum's 20%
        for lo in range(0, churn, 1000):
            c.execute("UPDATE accounts SET balance = balance + 1 WHERE id > %s AND id <= %s", (lo, lo + 1000))
            tx += 1
        orders = n // 10
        c.execute("INSERT INTO orders SELECT g, 'new', g %% 100 FROM generate_series(1, %s::int) g", (orders,))
        for i in range(1, orders + 1):
            c.execute("UPDATE orders SET status = 'paid', payment_ref = %s WHERE id = %s", (f"pi_{i:0100d}", i))
            tx += 1
    return tx + 1, time.monotonic() - start


def measure(conn: psycopg.Connection[Any], dsn: str, n: int, settle: float) -> dict[str, Any]:
    conn.execute("SELECT pg_stat_force_next_flush()")
    time.sleep(1)
    before = evidence.capture(conn)
    tx, seconds = run_load(dsn, n)
    time.sleep(settle)                        # autovacuum's turn (naptime 1min by default)
    conn.execute("SELECT pg_stat_force_next_flush()")
    snap = evidence.window(before, evidence.capture(conn))
    tables = [snap.tables[("public", t)] for t in ("accounts", "orders", "events", "facts")]
    updates = sum(t.updates for t in tables)
    return {"snapshot": snap, "temp bytes": snap.counters.temp_bytes,
            "requested checkpoints": snap.counters.checkpoints_requested,
            "timed checkpoints": snap.counters.checkpoints_timed,
            "dead tuples at the end": sum(t.dead for t in tables),
            "HOT share of updates": f"{sum(t.hot_updates for t in tables) / max(updates, 1):.0%}",
            "load seconds": round(seconds, 1), "throughput (tx/s)": round(tx / seconds, 1)}


def settings_state(conn: psycopg.Connection[Any], datadir: Path) -> Any:
    rows = conn.execute("SELECT name, setting, source FROM pg_settings WHERE source <> 'session' "
                        "ORDER BY name").fetchall()
    roles = conn.execute("SELECT setrole, setdatabase, setconfig FROM pg_db_role_setting ORDER BY 1, 2").fetchall()
    return rows, roles, (datadir / "postgresql.auto.conf").read_bytes()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="1.0: 1M rows per large table")
    ap.add_argument("--settle", type=float, default=70.0, help="seconds after the load before dead tuples are read")
    args = ap.parse_args()
    n = int(1_000_000 * args.scale)
    with LocalCluster(settings=DEFAULTS) as cluster:
        dsn = cluster.dsn
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
            conn.execute("CREATE ROLE reporter LOGIN")
            conn.execute(SCHEMA)
            conn.execute("GRANT SELECT ON facts TO reporter")
            start_state = settings_state(conn, cluster.datadir)
            load_data(conn, n)
            print("… run 1: PostgreSQL's defaults", flush=True)
            default = measure(conn, dsn, n, args.settle)
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp) / "settings"
                report = api.config(conn, ConfigOptions(), evidence=default["snapshot"],
                                    emit=api.EmitOptions(directory=folder))
                print(tabulate([[p.scope, p.target, p.setting, p.current, p.value] for p in report.proposals],
                               headers=["scope", "where", "setting", "was", "pgtune"]))
                if report.budget is not None:
                    print(f"memory budget: {report.budget.message}")
                api.apply(conn, folder)
                conn.execute("CHECKPOINT")
                load_data(conn, n)
                print("… run 2: pgtune's settings", flush=True)
                tuned = measure(conn, dsn, n, args.settle)
                api.rollback(conn, folder)
            time.sleep(1)
            with psycopg.connect(dsn, autocommit=True) as fresh:
                restored = settings_state(fresh, cluster.datadir) == start_state
    keys = [k for k in default if k != "snapshot"]
    print(tabulate([[k, default[k], tuned[k]] for k in keys], headers=["", "defaults", "pgtune config"],
                   disable_numparse=True))
    print(f"rolled back: settings, role settings and postgresql.auto.conf as before: {restored}")


if __name__ == "__main__":
    main()
