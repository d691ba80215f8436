"""``pgtune demo``: the whole loop on a throwaway cluster, with a before/after table.

The workload is a set of statement templates a video platform runs all day;
each runs many times with skewed literal values so pg_stat_statements holds a
realistic picture. "Before" and "after" are measured on the same concrete
statements: planner cost from EXPLAIN, time from EXPLAIN ANALYZE.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
from tabulate import tabulate

from .. import api, plan
from ..analyze import Advice
from ..capture import reset_counters
from ..cluster import LocalCluster
from ..connect import connect
from ..constraints import ConstraintAdvice
from ..errors import InputError
from ..explain import explain


@dataclass(frozen=True)
class Template:
    name: str
    sql: str                                  # %s placeholders, filled by psycopg
    params: Callable[[random.Random, float], tuple[Any, ...]]
    calls: int


def _skewed(rng: random.Random, n: int, power: float = 2.0) -> int:
    return 1 + int((rng.random() ** power) * n)


def templates() -> list[Template]:
    def users(s: float) -> int:
        return int(50000 * s)

    def videos(s: float) -> int:
        return int(100000 * s)

    return [
        Template("newest feed",
                 "SELECT id, title, \"viewsCount\" FROM videos WHERE status = 'PUBLISHED' "
                 "ORDER BY \"createdAt\" DESC LIMIT 20", lambda r, s: (), 60),
        Template("trending feed",
                 "SELECT id, title FROM videos WHERE status = 'PUBLISHED' "
                 "ORDER BY \"viewsCount\" DESC LIMIT 50", lambda r, s: (), 60),
        Template("creator's videos",
                 "SELECT id, title, status FROM videos WHERE \"userId\" = %s "
                 "ORDER BY \"createdAt\" DESC LIMIT 20", lambda r, s: (_skewed(r, users(s), 3),), 80),
        Template("video comments",
                 "SELECT c.id, c.body, u.username FROM comments c JOIN users u ON u.id = c.\"userId\" "
                 "WHERE c.\"videoId\" = %s ORDER BY c.\"createdAt\" DESC LIMIT 20",
                 lambda r, s: (_skewed(r, videos(s)),), 80),
        Template("views this week",
                 "SELECT count(*) FROM video_views WHERE \"videoId\" = %s "
                 "AND \"viewedAt\" >= now() - interval '7 days'", lambda r, s: (_skewed(r, videos(s)),), 60),
        Template("like count",
                 "SELECT count(*) FROM likes WHERE \"videoId\" = %s", lambda r, s: (_skewed(r, videos(s)),), 60),
        Template("subscription feed",
                 "SELECT v.id, v.title FROM subscriptions s JOIN videos v ON v.\"userId\" = s.\"channelId\" "
                 "WHERE s.\"subscriberId\" = %s AND v.status = 'PUBLISHED' "
                 "ORDER BY v.\"createdAt\" DESC LIMIT 20", lambda r, s: (1 + int(r.random() * users(s)),), 40),
        Template("tag page",
                 "SELECT v.id, v.title FROM video_tags vt JOIN videos v ON v.id = vt.\"videoId\" "
                 "WHERE vt.\"tagId\" = %s LIMIT 20", lambda r, s: (_skewed(r, 500),), 40),
        Template("processing queue",
                 "SELECT id FROM videos WHERE status = 'PROCESSING' ORDER BY \"createdAt\" LIMIT 10",
                 lambda r, s: (), 40),
        Template("channel subscribers",
                 "SELECT count(*) FROM subscriptions WHERE \"channelId\" = %s",
                 lambda r, s: (50 * _skewed(r, int(999 * s)),), 40),
        Template("login",
                 "SELECT id, role FROM users WHERE email = %s",
                 lambda r, s: (f"user{1 + int(r.random() * users(s))}@example.com",), 40),
    ]


def load(conn: psycopg.Connection[Any], scale: float) -> None:
    files = resources.files("pgtune.demo")
    conn.execute(files.joinpath("schema.sql").read_text())
    data = files.joinpath("data.sql").read_text().replace(":scale", repr(float(scale)))
    conn.execute(data)
    conn.execute("VACUUM ANALYZE")


def run_workload(conn: psycopg.Connection[Any], scale: float, seed: int = 7) -> None:
    rng = random.Random(seed)
    for t in templates():
        for _ in range(t.calls):
            conn.execute(t.sql, t.params(rng, scale)).fetchall()


@dataclass
class Measure:
    cost: float
    ms: float


def measure(conn: psycopg.Connection[Any], scale: float, samples: int = 3, seed: int = 11,
            workload: list[Template] | None = None) -> dict[str, Measure]:
    """Mean planner cost and execution time of a few concrete instances per template (the demo's by default)."""
    rng = random.Random(seed)
    out = {}
    for t in workload if workload is not None else templates():
        costs, times = [], []
        for _ in range(samples):
            # Literal values inlined by psycopg's own quoting, so EXPLAIN ANALYZE sees real values.
            text = psycopg.ClientCursor(conn).mogrify(t.sql, t.params(rng, scale))
            p = explain(conn, text, analyze=True)
            costs.append(p.cost)
            times.append(p.execution_ms or 0.0)
        out[t.name] = Measure(sum(costs) / len(costs), sum(times) / len(times))
    return out


@dataclass
class DemoResult:
    before: dict[str, Measure]
    after: dict[str, Measure]
    cost_before: float            # Σ calls × planner cost over the templates
    cost_after: float
    indexes: int
    constraints: int
    verified: bool
    folder: Path
    dsn: str


def run_demo(*, keep: bool, scale: float, echo: Callable[[str], None],
             progress: Callable[[str], None]) -> DemoResult:
    if not 0.01 <= scale <= 20:
        raise InputError("--scale must be between 0.01 and 20")
    progress("starting a throwaway PostgreSQL")
    cluster = LocalCluster().start()
    try:
        with psycopg.connect(cluster.dsn, autocommit=True) as admin:
            admin.execute("CREATE DATABASE demo")
        dsn = cluster.dsn_for("demo")
        with connect(dsn) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
            available = conn.execute(
                "SELECT count(*) FROM pg_available_extensions WHERE name = 'hypopg'").fetchone()
            if available and available[0]:
                conn.execute("CREATE EXTENSION hypopg")
            preload = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
            if preload and "pg_qualstats" in preload[0]:
                conn.execute("CREATE EXTENSION pg_qualstats")
            started = time.monotonic()
            progress(f"loading the video-platform schema and data (scale {scale})")
            load(conn, scale)
            rows = conn.execute("SELECT sum(n_live_tup) FROM pg_stat_user_tables").fetchone()
            progress(f"loaded {int(rows[0] if rows else 0):,} rows in {time.monotonic() - started:.0f}s")
            # Steady state: count statements and table writes from here on, not the bulk load.
            reset_counters(conn)
            progress("running the workload")
            # The application's own session: pgtune's sessions are never sampled by pg_qualstats.
            with psycopg.connect(dsn, autocommit=True, application_name="demo-app") as app:
                run_workload(app, scale)
            before = measure(conn, scale)
            progress("pgtune suggest")
            # Inside the cluster's own temp dir: removed with it, kept with it (--keep).
            suggestion = api.suggest(conn, emit=api.EmitOptions(directory=cluster.root / "migrations" / "demo",
                                                                slug="demo"), progress=progress)
            advice, checks = suggestion.indexes, suggestion.constraints
            migration, folder = suggestion.migration, suggestion.directory
            assert migration is not None and folder is not None
            progress(f"pgtune apply {folder}")
            api.apply(conn, folder, progress=progress)
            result = api.verify(conn, folder, measure=True)
            after = measure(conn, scale)
        _report(echo, advice, checks, migration, folder, result, before, after)
        if keep:
            echo(f"server kept running; connect with: psql \"{dsn}\"")
            as_postgres = "runuser -u postgres -- " if cluster.as_root else ""
            echo(f"stop it with: {as_postgres}{cluster.bindir / 'pg_ctl'} -D {cluster.datadir} stop "
                 f"&& rm -rf {cluster.root}")
        calls = {t.name: t.calls for t in templates()}
        total_before = sum(before[n].cost * calls[n] for n in before)
        total_after = sum(after[n].cost * calls[n] for n in after)
        return DemoResult(before, after, total_before, total_after, len(advice.indexes), len(checks.constraints),
                          result.ok, folder, dsn)
    finally:
        if not keep:
            cluster.stop()


def _report(echo: Callable[[str], None], advice: Advice, checks: ConstraintAdvice, migration: plan.Migration,
            folder: Path, result: api.Verification, before: dict[str, Measure], after: dict[str, Measure]) -> None:
    echo(f"pgtune suggested {len(advice.indexes)} indexes ({advice.method}) and {len(checks.constraints)} "
         f"CHECK constraints; migration {migration.id} (the indexes) in {len(migration.phases)} phases at {folder}")
    for ix in advice.indexes:
        echo(f"  {ix.ddl}")
    for c in checks.constraints:
        echo(f"  CHECK ({c.check}) on {c.table}: {c.kind}, proven on every row; not applied "
             "(suggest --emit --constraints writes it, NOT VALID then validated)")
    echo("")
    rows = []
    total_b = total_a = 0.0
    time_b = time_a = 0.0
    for t in templates():
        b, a = before[t.name], after[t.name]
        total_b += b.cost * t.calls
        total_a += a.cost * t.calls
        time_b += b.ms * t.calls
        time_a += a.ms * t.calls
        rows.append([t.name, t.calls, f"{b.cost:,.1f}", f"{a.cost:,.1f}", f"{b.cost / a.cost:,.1f}x",
                     f"{b.ms:.2f}", f"{a.ms:.2f}"])
    rows.append(["TOTAL (calls x)", "", f"{total_b:,.0f}", f"{total_a:,.0f}", f"{total_b / total_a:,.1f}x",
                 f"{time_b:,.0f}", f"{time_a:,.0f}"])
    echo(tabulate(rows, headers=["statement", "calls", "cost before", "cost after", "cost cut",
                                 "ms before", "ms after"], disable_numparse=True,
                  colalign=("left", "right", "right", "right", "right", "right", "right")))
    echo("")
    echo(f"workload cost reduction: {total_b / total_a:.1f}x; measured time: {time_b:,.0f} ms -> {time_a:,.0f} ms")
    echo("")
    for line in verify_summary(result):
        echo(line)


def verify_summary(result: api.Verification) -> list[str]:
    """The demo's last lines: verify's verdict, and why when it failed; what went unused or gained nothing."""
    n = len(result.targets)
    timings = f"; measured {result.measured} of {n}, {result.agreement()}"
    if result.ok:
        lines = [f"verify: ok — {n} of {n} targeted statements use this migration's indexes (or are served as "
                 f"well) at no more than their baseline cost{timings}"]
    else:
        lines = [f"verify: FAILED — {len(result.failures)} of {n} targeted statements{timings}"]
        lines += [f"  FAIL {t.name} (queryid {t.queryid}): {t.problem}" for t in result.failures]
    lines += [f"  note: planned index {name} is used by no targeted statement"
              + (f" (planned at emit: {result.planned_for[name]})" if name in result.planned_for else "")
              for name in result.unused_indexes]
    lines += [f"  note: index {name}: measured gain nil on every statement timed on it"
              for name in result.nil_gain_indexes]
    return lines
