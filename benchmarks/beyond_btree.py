"""Beyond the b-tree (issue 27): pgtune against an expert on a search box, JSON, tags, events, counters, correlation.

A Prisma-style database (1.45M rows at --scale 1): "Post" with a title searched
by ILIKE '%…%' (Prisma's `contains`, insensitive), a jsonb "meta" filtered
with @>, a tag array filtered with &&; an append-only "Event" table read by
week-long ranges; an update-heavy "Counter" (a hit counter bumped with its
"seenAt", read by user — and once by "seenAt", the index an expert knows not
to build); and "Task" whose "projectId" decides its "tenantId", joined to its
comments. The workload runs through the database (pg_stat_statements holds it
normalized). A clone (CREATE DATABASE … TEMPLATE) stands for the DBA's staging
copy: pgtune's --trial-dsn, where its GIN candidates are built and costed.

Side by side for none / expert / pgtune: planner cost cut and measured time
cut (Σ calls × cost and Σ calls × EXPLAIN ANALYZE ms of concrete statements),
index MB, and the HOT share of "Counter" during a write burst. The goals:
pgtune ≥ 0.9× the expert's time cut at ≤ 1.2× its size, HOT share not below
the expert's.

    python benchmarks/beyond_btree.py [--scale 1.0]
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

import psycopg
from psycopg import sql
from tabulate import tabulate

from pgtune import api
from pgtune.capture import reset_counters
from pgtune.cluster import LocalCluster
from pgtune.demo.runner import Template, measure

SCHEMA = """
CREATE TABLE "Post" (id int PRIMARY KEY, title text NOT NULL, "authorId" int NOT NULL, meta jsonb NOT NULL,
                     tags text[] NOT NULL, "createdAt" timestamptz NOT NULL);
CREATE TABLE "Event" (id bigint PRIMARY KEY, "createdAt" timestamptz NOT NULL, kind text NOT NULL, amount int NOT NULL);
CREATE TABLE "Counter" (id int PRIMARY KEY, "userId" int NOT NULL, hits int NOT NULL DEFAULT 0,
                        "seenAt" timestamptz NOT NULL) WITH (fillfactor = 90);
CREATE TABLE "Task" (id int PRIMARY KEY, "tenantId" int NOT NULL, "projectId" int NOT NULL, title text NOT NULL);
CREATE TABLE "Comment" (id int PRIMARY KEY, "taskId" int NOT NULL, body text NOT NULL);
CREATE INDEX "Comment_taskId_idx" ON "Comment" ("taskId");
CREATE INDEX "Task_tenantId_idx" ON "Task" ("tenantId");
"""

DATA = """
INSERT INTO "Post" SELECT g, 'post ' || md5(g::text), g % 20000,
       jsonb_build_object('plan', CASE WHEN g % 100 = 0 THEN 'pro' ELSE 'free' END, 'n', g % 1000),
       ARRAY['t' || (g % 500), 'u' || (g % 37)], timestamptz '2026-01-01' + g * interval '1 minute'
FROM generate_series(1, :posts) AS g;
INSERT INTO "Event" SELECT g, timestamptz '2026-01-01' + g * interval '10 seconds', 'k' || g % 9, g % 1000
FROM generate_series(1, :events) AS g;
INSERT INTO "Counter" SELECT g, g % 5000, 0, timestamptz '2026-01-01' + g * interval '1 second'
FROM generate_series(1, :counters) AS g;
INSERT INTO "Task" SELECT g, g % 50, (g % 50) * 10 + (g / 50) % 5, 'task ' || g FROM generate_series(1, :tasks) AS g;
INSERT INTO "Comment" SELECT g, 1 + (g * 7919) % :tasks, 'ok' FROM generate_series(1, :tasks / 10) AS g;
"""

EXPERT = [
    'CREATE EXTENSION IF NOT EXISTS pg_trgm',
    'CREATE INDEX ON "Post" USING gin (title gin_trgm_ops)',
    'CREATE INDEX ON "Post" USING gin (meta jsonb_path_ops)',
    'CREATE INDEX ON "Post" USING gin (tags)',
    'CREATE INDEX ON "Event" USING brin ("createdAt")',
    'CREATE INDEX ON "Counter" ("userId")',
    'CREATE STATISTICS "Task_tenant_project" (dependencies) ON "tenantId", "projectId" FROM "Task"',
]

BUMP = 'UPDATE "Counter" SET hits = hits + 1, "seenAt" = now() WHERE id = %s'
HEX = "0123456789abcdef"


def templates(sizes: dict[str, int]) -> list[Template]:
    week = 7 * 24 * 360     # events per week at one every 10 s
    return [
        Template("search box", 'SELECT id, title FROM "Post" WHERE title ILIKE %s LIMIT 20',
                 lambda r, s: ("%" + "".join(r.choice(HEX) for _ in range(4)) + "%",), 60),
        Template("json filter", 'SELECT id FROM "Post" WHERE meta @> %s::jsonb',
                 lambda r, s: (f'{{"n": {r.randrange(1000)}}}',), 40),
        Template("tag filter", 'SELECT id FROM "Post" WHERE tags && %s::text[]',
                 lambda r, s: ([f"t{r.randrange(500)}", f"t{r.randrange(500)}"],), 40),
        Template("events week", 'SELECT kind, count(*), sum(amount) FROM "Event" WHERE "createdAt" >= %s '
                 'AND "createdAt" < %s GROUP BY kind', lambda r, s: _week(r, sizes["events"], week), 30),
        Template("counter by user", 'SELECT id, hits FROM "Counter" WHERE "userId" = %s',
                 lambda r, s: (r.randrange(5000),), 60),
        Template("recently seen", 'SELECT id FROM "Counter" WHERE "seenAt" > %s ORDER BY "seenAt" LIMIT 10',
                 lambda r, s: ("2026-01-02",), 2),
        Template("project comments", 'SELECT c.id, t.title FROM "Task" t JOIN "Comment" c ON c."taskId" = t.id '
                 'WHERE t."tenantId" = %s AND t."projectId" = %s',
                 lambda r, s: _project(r), 30),
    ]


def _week(r: random.Random, events: int, week: int) -> tuple[str, str]:
    """A week-long range inside the events' span (one every 10 s from 2026-01-01)."""
    return _range(r.randrange(max(1, events - week)) * 10, week * 10)


def _range(start_s: int, length_s: int) -> tuple[str, str]:
    base = 1767225600   # 2026-01-01 00:00:00 UTC
    return (time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(base + start_s)),
            time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(base + start_s + length_s)))


def _project(r: random.Random) -> tuple[int, int]:
    tenant = r.randrange(50)
    return tenant, tenant * 10 + r.randrange(5)


APPEND = ('INSERT INTO "Event" VALUES (%s, timestamptz \'2026-01-01\' + %s * interval \'10 seconds\', %s, %s)')


def run_workload(conn: psycopg.Connection[Any], sizes: dict[str, int], seed: int = 5) -> None:
    rng = random.Random(seed)
    for t in templates(sizes):
        for _ in range(t.calls):
            conn.execute(t.sql, t.params(rng, 1.0)).fetchall()
    for i in range(sizes["events"] + 1, sizes["events"] + 501):      # events are appended as they happen
        conn.execute(APPEND, (i, i, f"k{i % 9}", i % 1000))
    burst(conn, sizes["counters"], 3000, seed)


def burst(conn: psycopg.Connection[Any], counters: int, n: int, seed: int) -> float | None:
    """``n`` counter bumps; the share of them that were HOT (pg_stat_user_tables, this table's counters only)."""
    conn.execute("SELECT pg_stat_reset_single_table_counters('\"Counter\"'::regclass)")
    rng = random.Random(seed)
    for _ in range(n):
        conn.execute(BUMP, (1 + rng.randrange(counters),))
    # This session's counts are published when it next reports (at most once a second, PostgreSQL 15): force
    # it, as a sleep alone left them unpublished under load (HOT share "-").
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.execute("SELECT 1")
    time.sleep(0.6)
    conn.execute("SELECT pg_stat_clear_snapshot()")
    row = conn.execute("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'Counter'").fetchone()
    return row[1] / row[0] if row and row[0] else None


def totals(conn: psycopg.Connection[Any], sizes: dict[str, int], label: str,
           per: dict[str, dict[str, float]]) -> tuple[float, float]:
    measured = measure(conn, 1.0, samples=5, seed=9, workload=templates(sizes))
    per[label] = {name: m.ms for name, m in measured.items()}
    calls = {t.name: t.calls for t in templates(sizes)}
    return (sum(calls[n] * m.cost for n, m in measured.items()), sum(calls[n] * m.ms for n, m in measured.items()))


def index_bytes(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    """Indexes the set added (not the primary keys, not the two the schema starts with)."""
    row = conn.execute("SELECT count(*), coalesce(sum(pg_relation_size(indexrelid)), 0) FROM pg_index x "
                       "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace "
                       "WHERE n.nspname = 'public' AND NOT x.indisprimary "
                       "AND i.relname NOT IN ('Comment_taskId_idx', 'Task_tenantId_idx')").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def expert_undo(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute("SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                        "JOIN pg_namespace n ON n.oid = i.relnamespace WHERE n.nspname = 'public' "
                        "AND NOT x.indisprimary AND i.relname NOT IN ('Comment_taskId_idx', 'Task_tenantId_idx')")
    for (name,) in rows.fetchall():
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier("public", name)))
    conn.execute('DROP STATISTICS IF EXISTS "Task_tenant_project"')
    conn.execute("DROP EXTENSION IF EXISTS pg_trgm")
    conn.execute("ANALYZE")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0,
                    help="1.0: 300,000 posts, 1,000,000 events, 100,000 counters, 300,000 tasks")
    args = ap.parse_args()
    sizes = {"posts": int(300_000 * args.scale), "events": int(1_000_000 * args.scale),
             "counters": int(100_000 * args.scale), "tasks": int(300_000 * args.scale)}
    per: dict[str, dict[str, float]] = {}
    with LocalCluster() as cluster:
        with psycopg.connect(cluster.dsn, autocommit=True) as admin:
            admin.execute("CREATE DATABASE app")
            with psycopg.connect(cluster.dsn_for("app"), autocommit=True) as conn:
                t0 = time.monotonic()
                conn.execute(SCHEMA)
                data = DATA
                for name, count in sizes.items():
                    data = data.replace(f":{name}", str(count))
                conn.execute(data)
                conn.execute("VACUUM ANALYZE")
                print(f"loaded {sum(sizes.values()) + sizes['tasks'] // 10:,} rows in {time.monotonic() - t0:.0f}s")
            admin.execute("CREATE DATABASE app_clone TEMPLATE app")      # the DBA's staging copy
        rows, verdicts = compare(cluster, sizes, per)
    print()
    print(tabulate(rows, headers=["index set", "indexes", "index MB", "workload cost", "cost cut", "measured ms",
                                  "time cut", "HOT share (burst)"], disable_numparse=True))
    print()
    labels = list(per)
    print(tabulate([[t.name, t.calls, *(f"{per[lab].get(t.name, 0):.2f}" for lab in labels)]
                    for t in templates(sizes)], headers=["statement (mean ms)", "calls", *labels],
                   disable_numparse=True))
    print()
    for v in verdicts:
        print(v)


def compare(cluster: LocalCluster, sizes: dict[str, int],
            per: dict[str, dict[str, float]]) -> tuple[list[list[str]], list[str]]:
    with psycopg.connect(cluster.dsn_for("app"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements; CREATE EXTENSION hypopg")
        if "pg_qualstats" in str(conn.execute("SHOW shared_preload_libraries").fetchone()):
            conn.execute("CREATE EXTENSION pg_qualstats")
            conn.execute("SELECT pg_qualstats_reset()")
        reset_counters(conn)
        run_workload(conn, sizes)

        base_cost, base_ms = totals(conn, sizes, "none", per)
        base_hot = burst(conn, sizes["counters"], 2000, 11)
        rows = [["none", "0", "0.0", f"{base_cost:,.0f}", "1.0x", f"{base_ms:,.0f}", "1.0x", _pct(base_hot)]]

        for stmt in EXPERT:
            conn.execute(stmt)
        conn.execute("ANALYZE")
        e_cost, e_ms = totals(conn, sizes, "expert", per)
        e_count, e_size = index_bytes(conn)
        e_hot = burst(conn, sizes["counters"], 2000, 11)
        rows.append(["expert", str(e_count), f"{e_size / 1048576:.1f}", f"{e_cost:,.0f}",
                     f"{base_cost / e_cost:.1f}x", f"{e_ms:,.0f}", f"{base_ms / e_ms:.1f}x", _pct(e_hot)])
        expert_undo(conn)

        print("pgtune:")
        started = time.monotonic()
        with psycopg.connect(cluster.dsn_for("app_clone"), autocommit=True) as clone:
            result = api.suggest(conn, api.SuggestOptions(constraints=False), trial=clone,
                                 emit=api.EmitOptions(directory=cluster.root / "pgtune", measure=False))
        secs = time.monotonic() - started
        for ix in result.indexes.indexes:
            print(f"    {ix.ddl}    -- {ix.costed_by}")
        for st in result.indexes.statistics:
            print(f"    {st.create}")
        for h in result.indexes.hints:
            print(f"    hint: {h}")
        assert result.directory is not None
        api.apply(conn, result.directory)
        p_cost, p_ms = totals(conn, sizes, "pgtune", per)
        p_count, p_size = index_bytes(conn)
        p_hot = burst(conn, sizes["counters"], 2000, 11)
        rows.append([f"pgtune ({secs:.0f} s)", str(p_count), f"{p_size / 1048576:.1f}", f"{p_cost:,.0f}",
                     f"{base_cost / p_cost:.1f}x", f"{p_ms:,.0f}", f"{base_ms / p_ms:.1f}x", _pct(p_hot)])
        api.rollback(conn, result.directory)
    time_share = (base_ms / p_ms) / (base_ms / e_ms)
    verdicts = [f"pgtune: {time_share:.2f}x the expert's time cut (goal >= 0.9), "
                f"{(base_cost / p_cost) / (base_cost / e_cost):.2f}x its cost cut, "
                f"{p_size / e_size if e_size else float('inf'):.2f}x its size (goal <= 1.2), "
                f"HOT share {_pct(p_hot)} vs the expert's {_pct(e_hot)} (goal: not below)"]
    return rows, verdicts


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


if __name__ == "__main__":
    main()
