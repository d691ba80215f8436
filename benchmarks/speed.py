"""Speed and memory of suggest on a large generated workload.

500 tables, 5,000 distinct statements (benchmarks/synthetic.py: ten shapes per table: equality,
equality + ORDER BY ... LIMIT, ranges, IN lists, joins to a neighbour table,
expressions, GROUP BY, correlated EXISTS, UPDATE, DELETE), run once each so
pg_stat_statements holds them. Reports parse+bind throughput, and the whole
suggest with HypoPG twice, side by side: what-if costing in one session
(--jobs 1) and over the default pool of sessions (analyze.pool), each with its
wall time, the CPU time of pgtune's process and of the cluster's backends, what
it asked the server (what-if plans, EXPLAINs, hypothetical indexes and the
hypopg statements that made them, round trips) and the selected set (they must
be the same), and the process's peak RSS; then once more by default as a user
runs it, nothing counted (the goal's figure). On a shared machine the wall times
measure the load as much as pgtune (the load average is printed with them);
the CPU times and counts do not; a machine reference (fixed work, timed first) says how fast
the machine is that day.

    python benchmarks/speed.py [--tables 500] [--statements-per-table 10] [--jobs N] [--json FILE]

--catalog-only builds a tenant-shaped catalog instead (--tables in --schemas schemas, eight columns and
three indexes a table, no workload) and prints the catalog read time of suggest, health and config with
JIT off, as pgtune reads, beside the same reads with the server's JIT (benchmarks/catalog_jit.py):

    python benchmarks/speed.py --catalog-only --tables 4000 --schemas 40
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import os
import re
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import catalog_jit
import psycopg
from synthetic import ROWS, build
from synthetic import statements as synthetic_statements
from tabulate import tabulate

from pgtune import api
from pgtune.analyze import Options, bind, pool
from pgtune.capture import WorkloadFilter, read_catalog, read_workload, reset_counters
from pgtune.cluster import LocalCluster
from pgtune.ddl import create_index
from pgtune.explain import prepare_text
from pgtune.explain_script import Wire
from pgtune.sqltext import _parse
from pgtune.tracking import untrack_statements


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tables", type=int, default=500)
    ap.add_argument("--statements-per-table", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=None, help="the pool's sessions (default: pgtune's own choice)")
    ap.add_argument("--json", help="also write the figures of both runs to this file")
    ap.add_argument("--catalog-only", action="store_true",
                    help="only the catalog reads of suggest, health and config, JIT off and on (catalog_jit.py)")
    ap.add_argument("--schemas", type=int, default=40, help="--catalog-only: tenant schemas the tables are in")
    args = ap.parse_args()
    if args.catalog_only:
        catalog_jit.run(args.tables, args.schemas)
        return
    per = min(args.statements_per_table, 10)
    total = args.tables * per
    # Room for pgtune's own EXPLAINs as well (their counts are read there): none of the workload is evicted.
    with LocalCluster(settings={"pg_stat_statements.max": str(max(10000, 10 * total)),
                                "max_locks_per_transaction": "1024"}) as cluster, \
            psycopg.connect(cluster.dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements; CREATE EXTENSION hypopg")
        t0 = time.monotonic()
        build(conn, args.tables)
        print(f"built {args.tables} tables x {ROWS} rows in {time.monotonic() - t0:.1f}s")
        reset_counters(conn)
        for _, _, q in synthetic_statements(args.tables, per):
            with conn.transaction(force_rollback=True):   # the UPDATE/DELETE shapes change nothing
                conn.execute(q)
        # Their rolled-back rows are dead rows all the same, which suggest charges to index-only scans (the
        # visibility map): an autovacuum between the two runs made the second one's curve differ. And the loop's
        # last write counts (index upkeep) are flushed first, not after the first run read them (PG15+).
        conn.execute("SELECT pg_catalog.pg_stat_force_next_flush()")
        time.sleep(1.5)
        conn.execute("VACUUM ANALYZE")
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
        # The measurement's own catalog and statement list are not suggest's: each run reads its own. Held
        # through both runs they were counted in the process's max RSS below (2,000 tables: tens of MB).
        del catalog, statements
        gc.collect()

        postmaster = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
        print(reference(conn))
        runs = [_run(conn, postmaster, jobs, total) for jobs in (1, args.jobs)]
        runs.append(_run(conn, postmaster, args.jobs, total, counted=False))
        rss_mb = max(r.rss_mb for r in runs)
        rows = [("", *(f"--jobs {r.jobs if r.jobs is not None else 'default'} ({r.sessions})"
                       + ("" if r.counted else ", as a user runs it") for r in runs))]
        for label, attr, fmt in FIGURES:
            rows.append((label, *("-" if attr in COUNTED and not r.counted else fmt.format(getattr(r, attr))
                                  for r in runs)))
        print(tabulate(rows, headers="firstrow", tablefmt="simple", disable_numparse=True))
        for r in (r for r in runs if r.counted):
            print(f"statements sent by kind, --jobs {r.jobs if r.jobs is not None else 'default'}: "
                  + ", ".join(f"{k} {n:,}" for k, n in r.kinds.items()))
        same_set = all(r.chosen == runs[0].chosen for r in runs)
        same = all(r.digest == runs[0].digest for r in runs)
        print(f"same selected set in every run (--jobs 1 and the default): {'yes' if same_set else 'NO'}"
              f"; the same advice: {'yes' if same else 'NO'} ({', '.join(dict.fromkeys(r.digest for r in runs))})")
        print(f"peak RSS during suggest: {rss_mb:.0f} MB (the process, from each suggest's start to its return; "
              f"the benchmark's own digest of the advice after it is not suggest's)")
        goal_s = 20 if total <= 5000 else 120
        user = runs[-1]     # the goal is the user's suggest: no statement counted, by the client nor the server
        print(f"goal: {total:,} statements in <= {goal_s} s: {'met' if user.wall <= goal_s else 'MISSED'} "
              f"({user.wall:.1f} s wall at load {user.load:.1f}, by default, as a user runs it); RSS <= 500 MB: "
              f"{'met' if rss_mb <= 500 else 'MISSED'}")
        if args.json:
            Path(args.json).write_text(json.dumps([asdict(r) | {"chosen": len(r.chosen)} for r in runs], indent=1))


@dataclass
class Run:
    """One suggest: its wall and CPU times (pgtune's process, the cluster's backends) and what it asked the server."""

    jobs: int | None
    counted: bool            # the statements sent counted (else as a user runs it: the counts below are 0)
    sessions: int
    load: float
    wall: float
    cpu_pgtune: float
    cpu_server: float
    analyzed: int
    indexes: int
    plans: int               # what-if plans the selection counts (advice.what_if_calls)
    explains: int            # EXPLAINs the server ran (every scenario and reordering, price-now and settle too)
    hypothetical: int        # hypothetical indexes created
    hypopg_calls: int        # statements that created or dropped them
    round_trips: int         # pipeline syncs and statements outside a pipeline (psycopg's Cursor, pgtune's Wire)
    statements: int          # statements sent, in a pipeline or not
    kinds: dict[str, int]    # the same by kind (kind_of)
    digest: str              # of the advice: set, costs, curve, hints, each statement's plans (not the timings)
    rss_mb: float            # the process's peak RSS while suggest ran (VmHWM, reset at its start)
    chosen: list[tuple[object, ...]]


FIGURES = [("wall s", "wall", "{:.1f}"), ("load average at start", "load", "{:.1f}"),
           ("pgtune CPU s", "cpu_pgtune", "{:.1f}"), ("server CPU s (all backends)", "cpu_server", "{:.1f}"),
           ("analyzed statements", "analyzed", "{:,}"), ("indexes proposed", "indexes", "{:,}"),
           ("what-if plans (selection)", "plans", "{:,}"), ("EXPLAINs run", "explains", "{:,}"),
           ("hypothetical indexes made", "hypothetical", "{:,}"), ("hypopg statements", "hypopg_calls", "{:,}"),
           ("round trips", "round_trips", "{:,}"), ("statements sent", "statements", "{:,}")]


COUNTED = {"explains", "hypothetical", "hypopg_calls", "round_trips", "statements"}    # not in a user's run


def reference(conn: psycopg.Connection[Any]) -> str:
    """The same fixed work in every run, timed: this machine's speed, varying within an hour on a shared host
    (session 39: one suggest's server CPU 101 s, then 197 s; session 40: 5,000 statements 42-48 s where the same
    code took 23-25 s two days before). pgtune's figures are read beside it: a slower reference, a slower machine."""
    t0 = time.process_time()
    plan = {"Plan": {"Node Type": "Index Scan", "Total Cost": 8.3, "Plans": [{"Node Type": "Seq Scan"}] * 4}}
    for i in range(200_000):        # what a what-if answer costs pgtune: a plan read, a key worked out, a dict
        found = json.loads(json.dumps(plan))
        key = tuple(sorted((i % 97, i % 89, len(found["Plan"]["Plans"]))))
        plan["Plan"]["Total Cost"] = float(hash(key) % 1000)
    python_s = time.process_time() - t0
    t0 = time.monotonic()
    with psycopg.connect(conn.info.dsn, autocommit=True) as own, own.cursor() as cur:
        untrack_statements(own)     # not in the workload suggest reads next
        for i in range(2000):       # one round trip and one plan each, as a what-if question is
            cur.execute("EXPLAIN (FORMAT JSON) SELECT * FROM t0 WHERE c1 = %s ORDER BY c2 LIMIT 10", (i,))
            cur.fetchall()
    explain_s = time.monotonic() - t0
    return (f"machine reference (the same fixed work each run; compare runs of other days by it): pgtune-like Python "
            f"{python_s:.2f} s CPU, 2,000 EXPLAINs {explain_s:.2f} s wall, load {os.getloadavg()[0]:.1f}")


def _reset_peak() -> None:
    """The process's peak RSS (VmHWM) starts again from what it holds now (Linux: clear_refs 5), so each suggest's
    own peak is read, not the run before it or the digest after it."""
    Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cluster_cpu(postmaster: int) -> float:
    """CPU seconds of the cluster so far: every live process of it, and the backends it has reaped."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(pid) == postmaster:
            total += sum(int(f) for f in fields[11:15]) / tick     # its own and its reaped children's
        elif int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


class _RoundTrips:
    """Counts the round trips psycopg makes: a pipeline's syncs (leaving one syncs it) and waits for all its
    answers (Wire.drain), a statement outside one."""

    def __init__(self) -> None:
        self.count = 0
        self.statements = 0     # every statement sent (psycopg's per-statement work is most of pgtune's CPU)
        self.kinds: dict[str, int] = {}     # the same by kind (kind_of)
        self.patched: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> _RoundTrips:
        def counting(owner: Any, name: str, when: Any) -> None:
            real = getattr(owner, name, None)
            if real is None:
                return      # an older pgtune (an A/B run on another tree) has no such call

            def wrapper(this: Any, *args: Any, **kwargs: Any) -> Any:
                if when(this):
                    self.count += 1
                return real(this, *args, **kwargs)
            self.patched.append((owner, name, real))
            setattr(owner, name, wrapper)
        counting(psycopg.Pipeline, "sync", lambda p: True)
        counting(psycopg.Pipeline, "__exit__", lambda p: True)
        counting(psycopg.Cursor, "execute", lambda c: c.connection._pipeline is None)
        counting(Wire, "sync", lambda w: w.unsynced)      # what-if costing's pipelines (explain_script.Wire)
        counting(Wire, "drain", lambda w: w.pending > 0)  # … and their waits for every answer without a sync
        for owner in (psycopg.Cursor, Wire):
            real_execute = owner.execute

            def every(this: Any, *args: Any, _real: Any = real_execute, **kwargs: Any) -> Any:
                self.statements += 1
                kind = kind_of(args[0])
                self.kinds[kind] = self.kinds.get(kind, 0) + 1
                return _real(this, *args, **kwargs)
            self.patched.append((owner, "execute", real_execute))
            owner.execute = every
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, real in reversed(self.patched):
            setattr(owner, name, real)


def kind_of(query: Any) -> str:
    """What a statement sent is, for the count by kind: its first word, a hypopg call by its function, a
    set_config call as settings."""
    try:
        text = query if isinstance(query, str) else query.as_string(None) if hasattr(query, "as_string") \
            else bytes(query).decode()
    except (TypeError, ValueError, psycopg.Error):
        return "?"
    for name in ("hypopg_create_index", "hypopg_drop_index", "hypopg_reset", "set_config"):
        if name in text and not text.startswith(("EXPLAIN", "PREPARE")):
            return name
    return text.split(None, 1)[0].upper() if text.strip() else "?"


def _server_counts(conn: psycopg.Connection[Any]) -> tuple[int, int, int]:
    """EXPLAINs, hypothetical indexes made, and hypopg statements, from the server's pg_stat_statements."""
    row = conn.execute("""
        SELECT coalesce(sum(calls) FILTER (WHERE query LIKE 'EXPLAIN%%'), 0),
               coalesce(sum(rows) FILTER (WHERE query LIKE '%%hypopg_create_index%%'), 0),
               coalesce(sum(calls) FILTER (WHERE query LIKE '%%hypopg_create_index%%'
                                            OR query LIKE '%%hypopg_drop_index%%'), 0)
        FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND query LIKE '%%pgtune%%'""").fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


TIMED = {"uncosted_share",     # a share of the workload's time: it moved between two runs on one cluster
         "what_if_calls"}      # the plans asked: work done, which a speed-up cuts (printed above), not advice
_TIME_SHARE = re.compile(r"\d+% of the workload's time")     # ... and the hint that says it (94% / 93%)


def digest(advice: Any) -> str:
    """What an optimization must leave as it is: the advice's JSON but for the timings pg_stat_statements gave
    (milliseconds, and the uncosted share of the workload's time: the first run's own statements change them)
    and the count of what-if plans (TIMED), hashed."""
    def untimed(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: untimed(v) for k, v in value.items() if not k.endswith("_ms") and k not in TIMED}
        if isinstance(value, str):
            return _TIME_SHARE.sub("N% of the workload's time", value)
        return [untimed(v) for v in value] if isinstance(value, list) else value
    return hashlib.sha256(json.dumps(untimed(advice.as_dict()), sort_keys=True, default=str).encode()).hexdigest()[:12]


_UNTRACK = pool.untrack_statements


def count_own_statements() -> None:
    """Keep pgtune's sessions tracked by pg_stat_statements: the EXPLAINs and hypopg calls are counted there (p19
    turned tracking off in the sessions pgtune opens, so that on a full pg_stat_statements they evict none of the
    application's entries; this cluster is the benchmark's own, and its figures stay comparable with earlier runs)."""
    pool.untrack_statements = lambda _conn: None  # type: ignore[assignment]


def _run(conn: psycopg.Connection[Any], postmaster: int, jobs: int | None, total: int, counted: bool = True) -> Run:
    """One suggest, timed; ``counted``: with the statements it sends counted (client: _RoundTrips; server:
    pgtune's sessions tracked by pg_stat_statements), else as the CLI runs it, none counted (the counting was
    ~0.6 s of pgtune's CPU at 5,000 statements)."""
    if not counted:
        pool.untrack_statements = _UNTRACK  # type: ignore[assignment]    # count_own_statements undone
        with psycopg.connect(conn.info.dsn, autocommit=True) as own:
            untrack_statements(own)     # as pgtune.connect does the CLI's session
            return _run_once(own, postmaster, jobs, total, counted)
    count_own_statements()
    return _run_once(conn, postmaster, jobs, total, counted)


def _run_once(conn: psycopg.Connection[Any], postmaster: int, jobs: int | None, total: int, counted: bool) -> Run:
    opts = api.SuggestOptions(Options(workload=WorkloadFilter(top=total * 2), min_rows=1000, jobs=jobs),
                              constraints=False)
    # Start cold: the parse measurement above (and the run before) warmed pgtune's caches.
    _parse.cache_clear()
    prepare_text.cache_clear()
    create_index.cache_clear()
    before = _server_counts(conn)
    load = os.getloadavg()[0]
    trips = _RoundTrips()
    cpu0, server0, t0 = resource.getrusage(resource.RUSAGE_SELF), cluster_cpu(postmaster), time.monotonic()
    _reset_peak()
    with trips if counted else contextlib.nullcontext():
        advice = api.suggest(conn, opts).indexes
    wall = time.monotonic() - t0
    rss_mb = _peak_mb()      # before digest() below: its copies of the advice (~38 MB at 20k) are the benchmark's
    cpu1, server1 = resource.getrusage(resource.RUSAGE_SELF), cluster_cpu(postmaster)
    after = _server_counts(conn)
    explains, made, hypopg = (a - b for a, b in zip(after, before, strict=True))
    return Run(jobs=jobs, counted=counted, sessions=pool.jobs_for(conn, jobs).count, load=load, wall=wall,
               cpu_pgtune=cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime,
               cpu_server=server1 - server0, analyzed=len(advice.statements), indexes=len(advice.indexes),
               plans=advice.what_if_calls, explains=explains, hypothetical=made, hypopg_calls=hypopg,
               round_trips=trips.count, statements=trips.statements,
               kinds=dict(sorted(trips.kinds.items(), key=lambda kv: -kv[1])), digest=digest(advice), rss_mb=rss_mb,
               chosen=sorted((i.schema, i.table, tuple(i.columns), i.where or "", tuple(i.include))
                             for i in advice.indexes))

if __name__ == "__main__":
    main()
