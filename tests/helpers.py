"""Small builders shared by the integration tests."""

from __future__ import annotations

import contextlib
import importlib.util
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune import api, ddl
from pgtune.analyze import Advice, Options, beyond
from pgtune.analyze.model import AnalyzedStatement, IndexSuggestion, Method
from pgtune.capture import Statement, read_catalog, read_queries_file, reset_counters
from pgtune.cluster import LocalCluster
from pgtune.ddl import IndexKey, IndexMethod

SHOP_SCHEMA = """
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, "createdAt" timestamptz NOT NULL);
CREATE TABLE "order" (
    id          bigint PRIMARY KEY,
    "userId"    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status      text NOT NULL,
    total       numeric NOT NULL,
    "createdAt" timestamptz NOT NULL
);
INSERT INTO users SELECT g, 'u' || g || '@example.com', now() - g * interval '1 hour'
FROM generate_series(1, 5000) AS g;
INSERT INTO "order" SELECT g, 1 + (g * 7919) % 5000,
       CASE WHEN g % 500 = 0 THEN 'pending' ELSE 'paid' END, g % 1000, now() - g * interval '1 minute'
FROM generate_series(1, 60000) AS g;
ANALYZE;
"""


def benchmark(name: str) -> ModuleType:
    """A script of benchmarks/ as a module (scripts, not a package): a test and its benchmark share one workload."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parent.parent / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shop(conn: psycopg.Connection[Any]) -> None:
    """Prisma-style shop: a table called "order", camelCase columns, an unindexed FK."""
    conn.execute(SHOP_SCHEMA)
    steady_state(conn)


def with_item_count(conn: psycopg.Connection[Any]) -> None:
    """A count column on "order": a rule --emit --constraints writes (status and total are listed, never written)."""
    conn.execute('ALTER TABLE "order" ADD COLUMN "itemCount" int NOT NULL DEFAULT 1; '
                 'UPDATE "order" SET "itemCount" = 1 + id % 4; ANALYZE "order"')
    steady_state(conn)


def all_visible(conn: psycopg.Connection[Any], table: str) -> None:
    """VACUUM until the visibility map covers the table, as autovacuum leaves it (index-only scans).

    A VACUUM right after a bulk load can find the rows not yet visible to
    every session (an autovacuum worker's snapshot), and leave the map empty:
    after test_q9_visibility's first test it stayed empty for 5-6 s (24 tries).
    """
    for _ in range(100):
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(table)))
        row = conn.execute("SELECT relallvisible >= relpages FROM pg_class WHERE oid = %s::regclass",
                           (sql.Identifier(table).as_string(conn),)).fetchone()
        if row and row[0]:
            return
        time.sleep(0.2)
    raise AssertionError(f"VACUUM left {table} partly not all-visible")


def steady_state(conn: psycopg.Connection[Any]) -> None:
    """Count statements and table writes from now on, not the fixture's bulk load."""
    reset_counters(conn)


def run(conn: psycopg.Connection[Any], query: str, values: list[tuple[Any, ...]] | None = None,
        times: int = 10) -> None:
    """Run ``query`` so that pg_stat_statements records it."""
    for i in range(times):
        params = values[i % len(values)] if values else None
        conn.execute(query, params).fetchall()


ORDERS_BY_USER = 'SELECT id, total FROM "order" WHERE "userId" = %s ORDER BY "createdAt" DESC LIMIT 20'


def suggest(conn: psycopg.Connection[Any], statements: list[Statement] | None = None, options: Options | None = None,
            progress: api.Progress | None = None) -> Advice:
    """The index advice of ``api.suggest`` (no CHECK constraints), as the tests read it: through the library."""
    return api.suggest(conn, api.SuggestOptions(options or Options(), constraints=False), statements=statements,
                       progress=progress).indexes


def emitted(conn: psycopg.Connection[Any], folder: Path, queries: str | None = None, *, constraints: bool = False,
            **emit: Any) -> api.Suggestion:
    """The library's suggest → emit pipeline, as the CLI runs it (index advice only unless asked)."""
    result = api.suggest(conn, api.SuggestOptions(constraints=constraints),
                         statements=read_queries_file(queries) if queries is not None else None,
                         emit=api.EmitOptions(directory=folder, constraints=constraints, **emit))
    assert result.migration is not None
    return result


@contextlib.contextmanager
def standby(primary: LocalCluster) -> Iterator[str]:
    """A hot standby of ``primary`` (pg_basebackup -R, streaming), on the next port; yields its DSN."""
    standby_dir = primary.root / "standby"
    out = primary._run(str(primary.bindir / "pg_basebackup"), "-D", str(standby_dir), "-R", "-X", "stream",
                       "-h", str(primary.root), "-p", str(primary.port), "-U", primary.user)
    assert out.returncode == 0, out.stderr
    port = primary.port + 1 if primary.port < 65000 else primary.port - 1
    with open(standby_dir / "postgresql.conf", "a") as conf:
        conf.write(f"\nport = {port}\n")
    started = primary._run(str(primary.bindir / "pg_ctl"), "-D", str(standby_dir), "-l",
                           str(primary.root / "standby.log"), "-w", "-t", "60", "start")
    assert started.returncode == 0, started.stderr
    try:
        yield f"host={primary.root} port={port} user={primary.user} dbname=postgres"
    finally:
        primary._run(str(primary.bindir / "pg_ctl"), "-D", str(standby_dir), "-m", "immediate", "-w", "stop")


@contextlib.contextmanager
def primary_and_standby() -> Iterator[tuple[LocalCluster, str]]:
    """A throwaway primary (sockets only) and its hot standby's DSN, both stopped after."""
    primary = LocalCluster(settings={"listen_addresses": "''"}).start()
    try:
        with standby(primary) as standby_dsn:
            yield primary, standby_dsn
    finally:
        primary.stop()


@contextlib.contextmanager
def writer_latencies(db: str, write: Callable[[psycopg.Connection[Any], int], None],
                     pause: float = 0.01) -> Iterator[list[float]]:
    """An application writing all along (``write(conn, i)`` in a loop, autocommit): yields how long each write took."""
    latencies: list[float] = []
    stop = threading.Event()

    def loop() -> None:
        with psycopg.connect(db, autocommit=True) as w:
            i = 10_000_000
            while not stop.is_set():
                t0 = time.monotonic()
                write(w, i)
                latencies.append(time.monotonic() - t0)
                i += 1
                time.sleep(pause)

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        yield latencies
    finally:
        stop.set()
        thread.join()


@contextlib.contextmanager
def exclusive_lock(db: str, table: str, hold_s: float = 60.0) -> Iterator[int]:
    """Another session holds ACCESS EXCLUSIVE on ``table`` (a migration running) until the block ends or ``hold_s``
    passes, whichever is first; yields its pid."""
    locked, release = threading.Event(), threading.Event()
    pid: list[int] = []

    def holder() -> None:
        with psycopg.connect(db) as other:
            other.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                sql.Identifier(table)))
            row = other.execute("SELECT pg_backend_pid()").fetchone()
            assert row is not None
            pid.append(int(row[0]))
            locked.set()
            release.wait(hold_s)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert locked.wait(10)
        yield pid[0]
    finally:
        release.set()
        thread.join()


@contextlib.contextmanager
def login_roles(conn: psycopg.Connection[Any], *kinds: str) -> Iterator[list[str]]:
    """LOGIN roles named ``<kind>_<database>`` (roles are cluster-wide: the database's name keeps tests apart),
    dropped with all they own when the block ends."""
    names = [f"{kind}_{conn.info.dbname}" for kind in kinds]
    for role in names:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        yield names
    finally:
        for role in names:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def exact_statistics(conn: psycopg.Connection[Any], tables: tuple[str, ...], target: int, *,
                     vacuum: bool = True) -> None:
    """VACUUM ANALYZE reading every row (300 x target >= the rows), so each run plans on the same statistics,
    then the benchmark protocol's planner settings: no parallel workers, SSD page pricing.

    ``vacuum=False`` leaves the visibility map as the load left it (empty), for tables made with autovacuum off:
    a VACUUM right after the load may or may not mark the pages all-visible (see all_visible), and index-only
    scans are priced by that share.
    """
    conn.execute(sql.SQL("SET default_statistics_target = {}").format(sql.Literal(target)))
    for table in tables:
        conn.execute(sql.SQL("VACUUM ANALYZE {}" if vacuum else "ANALYZE {}").format(sql.Identifier(table)))
    conn.execute("RESET default_statistics_target")
    conn.execute("SET max_parallel_workers_per_gather = 0")
    conn.execute("SET random_page_cost = 1.1")


SHOP_QUERIES = ["SELECT id, total FROM shop WHERE ref = 7 AND placed > '2026-02-01'",
                "SELECT count(*) FROM shop WHERE total BETWEEN 5 AND 9",
                "SELECT id FROM shop WHERE placed = '2026-01-05'"]


def shop_statements(conn: psycopg.Connection[Any]) -> list[Statement]:
    """A 20,000-row shop table and three statements on it (10 calls each), each served by an index of its own."""
    conn.execute("CREATE TABLE shop (id int PRIMARY KEY, status text, placed date, total numeric, ref int)")
    conn.execute("INSERT INTO shop SELECT g, (ARRAY['open', 'paid', 'sent'])[1 + g % 3], date '2026-01-01' + g % 90, "
                 "g % 500, g % 700 FROM generate_series(1, 20000) g")
    conn.execute("VACUUM ANALYZE shop")
    return [Statement(query=q, queryid=n + 1, calls=10) for n, q in enumerate(SHOP_QUERIES)]


def visibility_lost(conn: psycopg.Connection[Any], table: str, above: float) -> float:
    """public.``table``'s Table.visibility_lost once the statistics collector shows it above ``above`` (5 s at
    most: the writes' counters reach pg_stat only after the flush); the last value read either way."""
    conn.execute("SELECT pg_stat_force_next_flush()")
    lost = 0.0
    for _ in range(50):
        lost = read_catalog(conn).tables[("public", table)].visibility_lost
        if lost > above:
            break
        time.sleep(0.1)
    return lost


def server_log(conn: psycopg.Connection[Any]) -> Path:
    """The test cluster's log (pgtune.cluster.LocalCluster writes it beside its data directory)."""
    row = conn.execute("SHOW data_directory").fetchone()
    log = Path(row[0]).parent / "server.log" if row else Path()
    if not log.is_file():
        pytest.skip("the server's log is not readable here (not the local test cluster)")
    return log


@contextlib.contextmanager
def logged_errors(conn: psycopg.Connection[Any]) -> Iterator[list[str]]:
    """The server log's ERROR lines written while the block runs (the list is filled in at its end)."""
    log = server_log(conn)
    start = log.stat().st_size
    found: list[str] = []
    yield found
    with open(log, errors="replace") as f:
        f.seek(start)
        found.extend(line for line in f if "ERROR" in line)


def result_gin_advice(conn: psycopg.Connection[Any], rows: int, distinct: int | None = None) -> Advice:
    """Typebot's "Result": ``rows`` rows of ``{"email": "user<n>@example.com", "plan": "pro"}`` (``distinct``
    emails, each repeated; without it every row's own) and beyond.extend's advice for a containment search on it
    (HypoPG asked, the GIN costed on a sample)."""
    email = sql.SQL("i") if distinct is None else sql.SQL("(i % {})").format(sql.Literal(distinct))
    conn.execute('CREATE TABLE "Result" (id bigint PRIMARY KEY, variables jsonb NOT NULL)')
    conn.execute(sql.SQL('INSERT INTO "Result" SELECT i, jsonb_build_object(\'email\', \'user\' || {} || '
                         '\'@example.com\', \'plan\', \'pro\') FROM generate_series(1, {}) AS i')
                 .format(email, sql.Literal(rows)))
    conn.execute('VACUUM ANALYZE "Result"')
    st = AnalyzedStatement(1, 'SELECT id FROM "Result" WHERE variables @> $1', 500, 20.0, cost_before=30000.0,
                           values={"$1": '{"email": "user77@example.com"}'})
    advice = Advice(Method.HYPOPG, statements=[st])
    beyond.extend(conn, read_catalog(conn), advice, trial=None, use_hypopg=True, writes=None, write_scale=0.0,
                  say=lambda _m: None)
    return advice


def result_variables_gin() -> IndexSuggestion:
    """The jsonb_path_ops GIN on "Result".variables as a suggestion to emit (no table needed)."""
    keys = (IndexKey("variables", opclass="jsonb_path_ops"),)
    return IndexSuggestion("public", "Result", "Result_variables_idx", ["variables"], [False],
                           ddl.create_index("public", "Result", "Result_variables_idx", keys, method=IndexMethod.GIN),
                           ddl.drop_index("public", "Result_variables_idx"), ddl.analyze("public", "Result"),
                           "serves the variables search", method=IndexMethod.GIN, opclasses=["jsonb_path_ops"])
