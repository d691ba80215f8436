"""The catalog read time of suggest, health and config on a tenant-shaped catalog, with JIT off and on.

pgtune reads the catalog with JIT off (catalog_sql.uncompiled, and read_catalog's own): on a big catalog
the planner prices its queries far over jit_above_cost, and a server with llvmjit spent most of a read
compiling it. Beside each read, the same read as a plain client runs it, with the server's JIT: the figure
pgtune's competes against. Run from benchmarks/speed.py --catalog-only.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
from psycopg import sql
from tabulate import tabulate

from pgtune import api, catalog_sql
from pgtune.capture import catalog as capture_catalog
from pgtune.capture import read_catalog
from pgtune.cluster import LocalCluster
from pgtune.connect import force_session_settings

ROWS = 20


def build_tenants(conn: psycopg.Connection[Any], tables: int, schemas: int) -> None:
    """``tables`` tables in ``schemas`` tenant schemas (the same names in each, as a schema per tenant has):
    eight columns, a primary key and two more indexes each, ``ROWS`` rows, then ANALYZE."""
    per = max(1, tables // schemas)
    for s in range(schemas):
        schema = sql.Identifier(f"tenant_{s:03d}")
        with conn.transaction():
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
            for t in range(per):
                table = sql.Identifier(f"tenant_{s:03d}", f"item_{t:03d}")
                conn.execute(sql.SQL(
                    "CREATE TABLE {t} (id bigint PRIMARY KEY, account_id int NOT NULL, name text, email text,"
                    " status text NOT NULL DEFAULT 'new', amount numeric(12, 2), created_at timestamptz NOT NULL"
                    " DEFAULT now(), data jsonb);"
                    " CREATE INDEX ON {t} (account_id, created_at); CREATE INDEX ON {t} (status);"
                    " INSERT INTO {t} (id, account_id, name, email, status, amount, data)"
                    " SELECT g, g % 7, 'n' || g, 'e' || g || '@x.org', (ARRAY['new', 'paid', 'gone'])[1 + g % 3],"
                    " g * 1.5, jsonb_build_object('k', g) FROM generate_series(1, {rows}) AS g"
                ).format(t=table, rows=sql.Literal(ROWS)))
    conn.execute("ANALYZE")


@contextlib.contextmanager
def _server_jit() -> Iterator[None]:
    """pgtune's catalog reads as a plain client runs them: with the server's JIT settings."""
    keep, keep_own = catalog_sql.uncompiled, capture_catalog._uncompiled
    catalog_sql.uncompiled = capture_catalog._uncompiled = lambda conn: contextlib.nullcontext()  # type: ignore
    try:
        yield
    finally:
        catalog_sql.uncompiled, capture_catalog._uncompiled = keep, keep_own


COMPILED = """SELECT count(*) FROM pg_stat_statements
              WHERE strpos(query, '/* pgtune */') > 0 AND jit_functions > 0"""


def _best(read: Callable[[psycopg.Connection[Any]], object], conn: psycopg.Connection[Any], runs: int
          ) -> tuple[float, int]:
    """The best of ``runs`` wall times (the machine is shared: the least disturbed run is the read's own), and
    how many of pgtune's statements the server JIT-compiled in them (pg_stat_statements), so each figure says
    whether JIT was in it at all."""
    best = float("inf")
    conn.execute("SELECT pg_stat_statements_reset()")
    for _ in range(runs):
        t0 = time.monotonic()
        read(conn)
        best = min(best, time.monotonic() - t0)
    row = conn.execute(COMPILED).fetchone()
    return best, int(row[0]) if row else 0


READS: dict[str, Callable[[psycopg.Connection[Any]], object]] = {
    "suggest's read_catalog": read_catalog,
    "health (all of it)": lambda conn: api.health(conn),
    "config (all of it)": lambda conn: api.config(conn),
}


def run(tables: int, schemas: int, runs: int = 2) -> None:
    """Build the catalog on a throwaway cluster with the server's default JIT settings, then time each read."""
    with LocalCluster(settings={"max_locks_per_transaction": "1024"}) as cluster, \
            psycopg.connect(cluster.dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements")
        jit = conn.execute("SELECT pg_catalog.pg_jit_available(), pg_catalog.current_setting('jit_above_cost')"
                           ).fetchone() or (False, "")
        t0 = time.monotonic()
        build_tenants(conn, tables, schemas)
        print(f"built {tables} tables in {schemas} schemas ({ROWS} rows, 3 indexes each) "
              f"in {time.monotonic() - t0:.1f}s; llvmjit: {'yes' if jit[0] else 'no'}, "
              f"jit_above_cost = {jit[1]}")
        force_session_settings(conn)
        rows = []
        for name, read in READS.items():
            read(conn)                              # once first: the catalog's pages and caches warm for both
            off, off_compiled = _best(read, conn, runs)
            with _server_jit():
                on, on_compiled = _best(read, conn, runs)
            rows.append([name, f"{off:.2f}", off_compiled, f"{on:.2f}", on_compiled,
                         f"{on / off:.1f}x" if off else "-"])
        print(tabulate(rows, headers=["catalog read", "JIT off (pgtune) s", "compiled", "server's JIT s",
                                      "compiled", "JIT / off"]))
        print(f"best of {runs} runs each; load average {os.getloadavg()[0]:.2f}")
