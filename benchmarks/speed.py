"""Speed and memory of suggest on a large generated workload.

500 tables, 5,000 distinct statements (ten shapes per table: equality,
equality + ORDER BY ... LIMIT, ranges, IN lists, joins to a neighbour table,
expressions, GROUP BY, correlated EXISTS, UPDATE, DELETE), run once each so
pg_stat_statements holds them. Reports parse+bind throughput, and the whole
suggest with HypoPG twice, side by side: what-if costing in one session
(--jobs 1) and over the default pool of sessions (analyze.pool), each with its
wall time, what-if plans and selected set (they must be the same), and the
process's peak RSS. The machine's load average is printed with the times: on a
shared machine they measure the load as much as pgtune.

    python benchmarks/speed.py [--tables 500] [--statements-per-table 10] [--jobs N]
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import psycopg
from psycopg import sql

from pgtune import api
from pgtune.analyze import Options, bind
from pgtune.capture import WorkloadFilter, read_catalog, read_workload, reset_counters
from pgtune.cluster import LocalCluster
from pgtune.ddl import create_index
from pgtune.explain import prepare_text
from pgtune.sqltext import _parse

ROWS = 2000


def shapes(t: str, n: str) -> list[str]:
    """Ten distinct statement shapes on table ``t`` (``n`` is its neighbour)."""
    return [
        f"SELECT id, c2 FROM {t} WHERE c1 = 5",
        f"SELECT id FROM {t} WHERE c2 = 3 ORDER BY c3 DESC LIMIT 10",
        f"SELECT count(*) FROM {t} WHERE c4 BETWEEN 10 AND 20",
        f"SELECT id FROM {t} WHERE c5 IN (1, 2, 3) AND c6 > 100",
        f"SELECT a.id, b.c1 FROM {t} a JOIN {n} b ON b.id = a.ref WHERE a.c7 = 9",
        f"SELECT id FROM {t} WHERE lower(name) = 'x'",
        f"SELECT c8, count(*) FROM {t} WHERE c1 = 2 GROUP BY c8",
        f"SELECT id FROM {t} a WHERE EXISTS (SELECT 1 FROM {n} b WHERE b.ref = a.id AND b.c2 = 4)",
        f"UPDATE {t} SET c8 = c8 + 1 WHERE c3 = 77",
        f"DELETE FROM {t} WHERE c6 < 0 AND c4 = 1",
    ]


def build(conn: psycopg.Connection[object], tables: int) -> None:
    for i in range(tables):
        t = sql.Identifier(f"t{i}")
        conn.execute(sql.SQL(
            "CREATE TABLE {t} (id int PRIMARY KEY, ref int, c1 int, c2 int, c3 int, c4 int, c5 int, c6 int, "
            "c7 int, c8 int, name text)").format(t=t))
        conn.execute(sql.SQL(
            "INSERT INTO {t} SELECT g, (g * 7) % {rows} + 1, g % 100, g % 50, g % 1000, g % 500, g % 10, g, "
            "g % 300, g % 7, 'n' || g FROM generate_series(1, {rows}) g").format(t=t, rows=sql.Literal(ROWS)))
    conn.execute("VACUUM ANALYZE")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tables", type=int, default=500)
    ap.add_argument("--statements-per-table", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=None, help="the pool's sessions (default: pgtune's own choice)")
    args = ap.parse_args()
    per = min(args.statements_per_table, 10)
    total = args.tables * per
    with LocalCluster(settings={"pg_stat_statements.max": str(max(10000, 2 * total)),
                                "max_locks_per_transaction": "1024"}) as cluster, \
            psycopg.connect(cluster.dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements; CREATE EXTENSION hypopg")
        t0 = time.monotonic()
        build(conn, args.tables)
        print(f"built {args.tables} tables x {ROWS} rows in {time.monotonic() - t0:.1f}s")
        reset_counters(conn)
        for i in range(args.tables):
            for q in shapes(f"t{i}", f"t{(i + 1) % args.tables}")[:per]:
                with conn.transaction(force_rollback=True):   # the UPDATE/DELETE shapes change nothing
                    conn.execute(q)
        statements = read_workload(conn, WorkloadFilter(top=total * 2))
        statements = [s for s in statements if "pg_stat" not in s.query]
        print(f"pg_stat_statements holds {len(statements)} distinct statements")

        catalog = read_catalog(conn)
        t0 = time.monotonic()
        bound = 0
        for st in statements:
            try:
                bind(st.query, catalog)
                bound += 1
            except ValueError:
                pass     # BEGIN/ROLLBACK of the load loop
        bind_s = time.monotonic() - t0
        print(f"parse + bind: {len(statements) / bind_s:,.0f} statements/s "
              f"({bind_s:.2f}s for {len(statements)}, {bound} bound)")

        runs = []
        for jobs in (1, args.jobs):
            opts = api.SuggestOptions(Options(workload=WorkloadFilter(top=total * 2), min_rows=1000, jobs=jobs),
                                      constraints=False)
            # Start cold: the parse measurement above (and the run before) warmed pgtune's caches.
            _parse.cache_clear()
            prepare_text.cache_clear()
            create_index.cache_clear()
            load = os.getloadavg()[0]
            t0 = time.monotonic()
            advice = api.suggest(conn, opts).indexes
            runs.append((jobs, time.monotonic() - t0, load, advice))
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        sets = [sorted((i.schema, i.table, tuple(i.columns), i.where or "", tuple(i.include)) for i in a.indexes)
                for *_, a in runs]
        for jobs, wall, load, advice in runs:
            print(f"suggest ({advice.method}, --jobs {jobs if jobs is not None else 'default'}): {wall:.1f}s wall "
                  f"(load average {load:.1f} at the start) for {len(advice.statements)} analyzed statements, "
                  f"{len(advice.indexes)} indexes proposed, {advice.what_if_calls:,} what-if plans in "
                  f"{len(advice.curve) - 1} selection steps" + "".join(f"; {h}" for h in advice.hints
                                                                       if "--jobs" in h))
        print(f"same selected set with --jobs 1 and the default: {'yes' if sets[0] == sets[1] else 'NO'}")
        print(f"process max RSS: {rss_mb:.0f} MB")
        goal_s = 20 if total <= 5000 else 120
        best = min(wall for _, wall, _, _ in runs)
        print(f"goal: {total:,} statements in <= {goal_s} s: {'met' if best <= goal_s else 'MISSED'} "
              f"({best:.1f} s); RSS <= 500 MB: {'met' if rss_mb <= 500 else 'MISSED'}")


if __name__ == "__main__":
    main()
