"""pgtune against an expert's index set on a Prisma-style application database, from its own workload.

The schema is what Prisma generates: quoted camelCase columns, text ids,
"createdAt"/"updatedAt", a status column with a rare value, soft deletes. The
workload runs through the database, so pg_stat_statements (and pg_qualstats)
hold it normalized ($1, $2…), with the patterns that sink per-query advice:
time windows relative to now(), a job queue on a rare status ordered by time,
per-user history DESC LIMIT, a role list, a lower(email) login, an analytics
GROUP BY over the last day.

Printed side by side for no new index / the expert's set / pgtune (from
pg_stat_statements, default options): planner cost cut and measured time cut
(Σ calls × cost, Σ calls × EXPLAIN ANALYZE time of concrete statements),
index count and real MB — once with pg_qualstats, once without. The goal:
pgtune ≥ 0.9× the expert's cost and time cuts at ≤ 1.2× its size (≥ 0.7× the
cost cut without pg_qualstats).

Predicted against measured (issue 28): each pgtune run is verified with ``verify --measure``; printed
per run and over all ``--rounds`` (3 by default, each with and without pg_qualstats): the share of
targets measured and, of those compared, the share whose predicted and measured gains agree within
pgtune.verify.DISAGREEMENT (goal: >= 80% and >= 80%, each round, its runs with and without, on its own).
Misses of targets predicted and measured under NOISE_FLOOR_MS (0.05 ms, where timings vary 2-3x between
runs under load) count as misses, and are also counted apart, so the reader sees how many are that noise.

    python benchmarks/prisma_style.py [--scale 1.0] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from tabulate import tabulate

from pgtune import api
from pgtune.api import DISAGREEMENT
from pgtune.capture import reset_counters
from pgtune.cluster import LocalCluster
from pgtune.demo.runner import Template, measure
from pgtune.verify import NOISE_MS

SCHEMA = """
CREATE TABLE "User" (
    id text PRIMARY KEY, email text NOT NULL, role text NOT NULL, name text,
    "createdAt" timestamptz NOT NULL, "updatedAt" timestamptz NOT NULL, "deletedAt" timestamptz);
CREATE TABLE "Job" (
    id text PRIMARY KEY, "userId" text NOT NULL REFERENCES "User" (id), status text NOT NULL,
    "runAt" timestamptz NOT NULL, payload text, "createdAt" timestamptz NOT NULL, "updatedAt" timestamptz NOT NULL);
CREATE TABLE "Event" (
    id text PRIMARY KEY, "userId" text NOT NULL, kind text NOT NULL, amount integer NOT NULL,
    "createdAt" timestamptz NOT NULL, "updatedAt" timestamptz NOT NULL);
"""

DATA = """
INSERT INTO "User" SELECT 'usr_' || g, 'User' || g || '@Example.com',
       CASE WHEN g % 500 = 0 THEN 'ADMIN' WHEN g % 50 = 0 THEN 'MODERATOR' ELSE 'USER' END, 'name ' || g,
       now() - g * interval '10 minutes', now() - g * interval '5 minutes',
       CASE WHEN g % 20 = 0 THEN now() - g * interval '1 minute' END
FROM generate_series(1, :users) AS g;
INSERT INTO "Job" SELECT 'job_' || g, 'usr_' || (1 + g % :users),
       CASE WHEN g % 200 = 0 THEN 'PENDING' WHEN g % 200 = 1 THEN 'RUNNING' ELSE 'DONE' END,
       now() - (g % 10000) * interval '1 minute', repeat('x', 40),
       now() - g * interval '1 minute', now() - g * interval '1 minute'
FROM generate_series(1, :jobs) AS g;
INSERT INTO "Event" SELECT 'evt_' || g, 'usr_' || (1 + (g::bigint * 7919) % :users),
       (ARRAY['view', 'click', 'purchase', 'signup'])[1 + g % 4], g % 1000,
       now() - g * interval '30 seconds', now() - g * interval '30 seconds'
FROM generate_series(1, :events) AS g;
"""

EXPERT = [
    'CREATE INDEX ON "Event" ("createdAt")',
    'CREATE INDEX ON "Event" ("userId", "createdAt" DESC)',
    'CREATE INDEX ON "Job" ("runAt") WHERE status = \'PENDING\'',
    'CREATE INDEX ON "User" (role) WHERE "deletedAt" IS NULL',
    'CREATE INDEX ON "User" (lower(email))',
]


def templates() -> list[Template]:
    return [
        Template("events last day", 'SELECT count(*) FROM "Event" WHERE "createdAt" >= now() - interval \'1 day\'',
                 lambda r, u: (), 40),
        Template("analytics last day", 'SELECT kind, count(*), sum(amount) FROM "Event" '
                 'WHERE "createdAt" >= now() - interval \'1 day\' GROUP BY kind', lambda r, u: (), 40),
        Template("job queue", 'SELECT id, "userId" FROM "Job" WHERE status = \'PENDING\' ORDER BY "runAt" LIMIT 10',
                 lambda r, u: (), 80),
        Template("user history", 'SELECT id, kind, amount FROM "Event" WHERE "userId" = %s '
                 'ORDER BY "createdAt" DESC LIMIT 20', lambda r, u: (f"usr_{1 + int(r.random() * u)}",), 80),
        Template("admin list", 'SELECT id, email FROM "User" WHERE role = \'ADMIN\' AND "deletedAt" IS NULL',
                 lambda r, u: (), 30),
        Template("login", 'SELECT id, role FROM "User" WHERE lower(email) = lower(%s)',
                 lambda r, u: (f"user{1 + int(r.random() * u)}@example.com",), 60),
    ]


def run_workload(conn: psycopg.Connection[Any], users: int, seed: int = 5) -> None:
    rng = random.Random(seed)
    for t in templates():
        for _ in range(t.calls):
            conn.execute(t.sql, t.params(rng, users)).fetchall()


PER_STATEMENT: dict[str, dict[str, float]] = {}   # index set -> template -> mean ms


def totals(conn: psycopg.Connection[Any], users: int, label: str) -> tuple[float, float]:
    """Σ calls × mean planner cost and Σ calls × mean measured ms over concrete instances (5 each)."""
    measured = measure(conn, users, samples=5, seed=9, workload=templates())
    PER_STATEMENT[label] = {name: m.ms for name, m in measured.items()}
    calls = {t.name: t.calls for t in templates()}
    return (sum(calls[n] * m.cost for n, m in measured.items()), sum(calls[n] * m.ms for n, m in measured.items()))


def user_index_bytes(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    row = conn.execute("SELECT count(*), coalesce(sum(pg_relation_size(indexrelid)), 0) FROM pg_index x "
                       "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
                       "WHERE n.nspname = 'public' AND NOT x.indisprimary").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def drop_secondary_indexes(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute("SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                        "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
                        "WHERE n.nspname = 'public' AND NOT x.indisprimary").fetchall()
    for (name,) in rows:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier("public", name)))


PREDICTIONS: list[str] = []   # per pgtune run: how many targets were measured, and how many predictions held
TALLY: list[tuple[int, int, int, int, int]] = []   # per pgtune run: targets, measured, compared, agree, tiny misses
# Under this, both predicted and measured, a time varies 2-3x between runs at load 8-10 (the job queue's 0.012-0.035
# ms for the same plan): such misses are still counted as misses, and said apart, so the reader can weigh them;
# verify names their cause "timing noise" by the same floor.
NOISE_FLOOR_MS = NOISE_MS
LOADS: list[float] = []      # the machine's 1-minute load average at each verify: the figures depend on it
TARGETS: list[dict[str, Any]] = []   # per pgtune run and target: what --out writes (predicted, measured, why)


def measure_pgtune(conn: psycopg.Connection[Any], folder: Path, users: int) -> tuple[float, float, int, int, float]:
    started = time.monotonic()
    result = api.suggest(conn, api.SuggestOptions(constraints=False),
                         emit=api.EmitOptions(directory=folder, measure=True))
    seconds = time.monotonic() - started
    assert result.directory is not None
    api.apply(conn, result.directory)
    checked = api.verify(conn, result.directory, measure=True)
    LOADS.append(os.getloadavg()[0])
    tiny = sum(1 for t in checked.compared if not t.agrees and t.ms is not None and t.ms < NOISE_FLOOR_MS
               and t.predicted_ms is not None and t.predicted_ms < NOISE_FLOOR_MS)
    TALLY.append((len(checked.targets), checked.measured, len(checked.compared), checked.agree, tiny))
    PREDICTIONS.append(f"{folder.name}: {checked.measured} of {len(checked.targets)} targets measured before and "
                       f"after (parameterized ones with their representative values); {checked.agreement()}")
    PREDICTIONS.extend(f"    {t.name}: {t.disagreement}" for t in checked.targets if t.disagreement)
    PREDICTIONS.extend(f"    {t.name}: {t.note}" for t in checked.targets if t.ms is None)
    TARGETS.extend({"run": folder.name, "load": LOADS[-1], "name": t.name, "baseline_ms": t.baseline_ms,
                    "predicted_ms": t.predicted_ms, "ms": t.ms, "measured_how": t.measured_how,
                    "compared_ratio": t.compared_ratio, "measured_ratio": t.measured_ratio, "agrees": t.agrees,
                    "disagreement": t.disagreement, "note": t.note, "pace_ms": getattr(t, "pace_ms", None),
                    "pace_ms_now": getattr(t, "pace_ms_now", None),
                    "predicted_ms_now": getattr(t, "predicted_ms_now", None)} for t in checked.targets)
    cost, ms = totals(conn, users, label=str(folder.name))
    count, size = user_index_bytes(conn)
    for ix in result.indexes.indexes:
        print(f"    {ix.ddl}")
    api.rollback(conn, result.directory)
    return cost, ms, count, size, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="1.0: 1,000,000 events, 200,000 jobs, 100,000 users")
    ap.add_argument("--rounds", type=int, default=3, help="pgtune runs per variant (with/without pg_qualstats)")
    ap.add_argument("--out", type=Path, help="write every verified target (predicted, measured, why) to this JSON file")
    args = ap.parse_args()
    users, jobs, events = int(100_000 * args.scale), int(200_000 * args.scale), int(1_000_000 * args.scale)
    with LocalCluster() as cluster:
        with psycopg.connect(cluster.dsn, autocommit=True) as admin:
            admin.execute("CREATE DATABASE app")
        with psycopg.connect(cluster.dsn_for("app"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements; CREATE EXTENSION hypopg")
            qualstats = "pg_qualstats" in str(conn.execute("SHOW shared_preload_libraries").fetchone())
            if qualstats:
                conn.execute("CREATE EXTENSION pg_qualstats")
            t0 = time.monotonic()
            conn.execute(SCHEMA)
            conn.execute(DATA.replace(":users", str(users)).replace(":jobs", str(jobs))
                         .replace(":events", str(events)))
            conn.execute("VACUUM ANALYZE")
            print(f"loaded {users + jobs + events:,} rows in {time.monotonic() - t0:.0f}s")
            reset_counters(conn)
            if qualstats:
                conn.execute("SELECT pg_qualstats_reset()")
            run_workload(conn, users)

            base_cost, base_ms = totals(conn, users, label="none")
            rows = [["no new index", 0, "0.0", f"{base_cost:,.0f}", "1.0x", f"{base_ms:,.0f}", "1.0x", "-"]]

            for stmt in EXPERT:
                conn.execute(stmt)
            conn.execute("ANALYZE")
            e_cost, e_ms = totals(conn, users, label="expert")
            e_count, e_size = user_index_bytes(conn)
            rows.append(["expert", e_count, f"{e_size / 1048576:.1f}", f"{e_cost:,.0f}", f"{base_cost / e_cost:.1f}x",
                         f"{e_ms:,.0f}", f"{base_ms / e_ms:.1f}x", "-"])
            drop_secondary_indexes(conn)
            conn.execute("ANALYZE")

            runs = [("pgtune (pg_stat_statements + pg_qualstats)", True)] if qualstats else []
            runs.append(("pgtune (pg_stat_statements only)", False))
            verdicts = []
            for (label, with_qualstats), n in ((r, n) for r in runs for n in range(1, args.rounds + 1)):
                if not with_qualstats and qualstats and n == 1:
                    conn.execute("DROP EXTENSION pg_qualstats")
                label = f"{label} #{n}" if args.rounds > 1 else label
                print(f"{label}:")
                folder = cluster.root / (("with-qualstats" if with_qualstats else "without-qualstats") + f"-{n}")
                p_cost, p_ms, p_count, p_size, secs = measure_pgtune(conn, folder, users)
                rows.append([label, p_count, f"{p_size / 1048576:.1f}", f"{p_cost:,.0f}",
                             f"{base_cost / p_cost:.1f}x", f"{p_ms:,.0f}", f"{base_ms / p_ms:.1f}x", f"{secs:.1f}s"])
                cost_share = (base_cost / p_cost) / (base_cost / e_cost)
                time_share = (base_ms / p_ms) / (base_ms / e_ms)
                size_share = p_size / e_size if e_size else float("inf")
                goal = 0.9 if with_qualstats else 0.7
                verdicts.append(f"{label}: {cost_share:.2f}x the expert's cost cut (goal >= {goal}), "
                                f"{time_share:.2f}x its time cut, {size_share:.2f}x its size (goal <= 1.2)")
    print()
    print(tabulate(rows, headers=["index set", "indexes", "real MB", "workload cost", "cost cut", "measured ms",
                                  "time cut", "advice time"], disable_numparse=True))
    print()
    labels = list(PER_STATEMENT)
    print(tabulate([[t.name, t.calls, *(f"{PER_STATEMENT[lab].get(t.name, 0):.2f}" for lab in labels)]
                    for t in templates()], headers=["statement (mean ms)", "calls", *labels], disable_numparse=True))
    print()
    for v in verdicts + PREDICTIONS:
        print(v)
    _per_round(args.rounds)
    if args.out is not None:
        args.out.write_text(json.dumps(TARGETS, indent=1))
    targets, measured, compared, agree, tiny = (sum(x) for x in zip(*TALLY, strict=True))
    print(f"over {len(TALLY)} pgtune runs: {measured} of {targets} targets measured ({measured / targets:.0%}, "
          f"goal >= 80%); of {compared} compared, {agree} agree within {DISAGREEMENT:g}x "
          f"({agree / compared if compared else 0:.0%}, goal >= 80%); load {min(LOADS):.1f}-{max(LOADS):.1f} at verify")
    print(f"of the {compared - agree} that disagree, {tiny} were predicted and measured under {NOISE_FLOOR_MS} ms "
          "(the noise floor: such times vary 2-3x between runs under load; counted as misses above)")


def _per_round(rounds: int) -> None:
    """Issue 28's goal holds "over three runs": each round (a run with pg_qualstats, where loaded, and one
    without) judged on its own, so that one round's miss is not hidden in the totals."""
    variants = len(TALLY) // rounds
    for n in range(rounds):
        tally = [TALLY[v * rounds + n] for v in range(variants)]
        targets, measured, compared, agree, _ = (sum(x) for x in zip(*tally, strict=True))
        ok = measured >= 0.8 * targets and agree >= 0.8 * compared
        print(f"round {n + 1}: {measured} of {targets} targets measured ({measured / targets:.0%}), {agree} of "
              f"{compared} within {DISAGREEMENT:g}x ({agree / compared if compared else 0:.0%}): "
              f"{'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
