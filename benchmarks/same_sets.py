"""Do two revisions of pgtune choose the same indexes on the TPC-H and Prisma-style benchmarks?

A refactoring must not change what pgtune proposes (issue 25, Must show).
This runs each revision's own advice path, as its benchmarks call it, on one
loaded database, and compares the answers:

- TPC-H SF1 (benchmarks/tpch.py at that revision: its ``workload()`` and
  ``advise()``), at every forecast budget the benchmark uses and at the
  HypoPG-MB budgets of its comparison with the published algorithms;
- the Prisma-style application (benchmarks/prisma_style.py's schema, data and
  workload, run once): ``api.suggest`` from pg_stat_statements as that
  benchmark calls it, in a database with pg_qualstats and one without, and
  the same through the command line (``pgtune suggest --format json``).

Per case it prints the chosen set (index definitions, order-insensitive), the
workload's what-if cost at the chosen end of the curve, and whether the whole
advice JSON is the same. The databases are loaded once (``--root`` keeps
them; TPC-H data files are taken from tpch.py's cache when present) and the
Prisma-style cluster must stay up between runs: pg_qualstats keeps its
constants in shared memory only (a restart re-runs the workload). Each
revision is checked out with ``git worktree add --detach`` under ``--root``
and run with this interpreter, its own tree first on the path; its answers are
kept there, so a revision shared by two pairs runs once.

    python benchmarks/same_sets.py BEFORE AFTER [BEFORE AFTER ...] [--root /var/tmp/pgtune-same-sets]
                                   [--budgets 250,400,500,1000,1500,2000] [--hypopg-budgets 500,1000,1500,2000]

Exit code 0 when every pair gives the same sets, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import tpch
from psycopg import sql

from pgtune.capture import reset_counters
from pgtune.cluster import LocalCluster

HERE = Path(__file__).parent
REPO = HERE.parent
PRISMA_DBS = {"app": True, "app_plain": False}     # database -> with pg_qualstats
WORKLOAD_STAMP = "workload-ran"

# Run inside each revision's checkout (its pgtune and its benchmarks first on the path): one JSON line out.
CHILD = r"""
import json, subprocess, sys, time
from pathlib import Path
import psycopg
tree, tpch_dsn, prisma, budgets, hypopg_budgets = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), \
    json.loads(sys.argv[4]), json.loads(sys.argv[5])
import pgtune, pgtune.sql
assert Path(pgtune.__file__).resolve().is_relative_to(tree.resolve()), pgtune.__file__
assert Path(pgtune.sql.__file__).resolve().is_relative_to(tree.resolve()), pgtune.sql.__file__
import tpch
from pgtune import api
from pgtune.analyze import SizeBasis

def answer(advice, full):
    chosen = [p for p in advice.curve if p.chosen]
    return {"set": sorted(ix.ddl for ix in advice.indexes),
            "cost": chosen[-1].cost if chosen else (advice.curve[0].cost if advice.curve else None),
            "cost_before": advice.curve[0].cost if advice.curve else None,
            "what_if_plans": advice.what_if_calls, "json": full}

out = {}
if tpch_dsn:
    with psycopg.connect(tpch_dsn, autocommit=True) as conn:
        for basis, mbs in ((SizeBasis.FORECAST, budgets), (SizeBasis.HYPOPG, hypopg_budgets)):
            for mb in mbs:
                result, seconds = tpch.advise(conn, mb, basis)
                out[f"tpch {basis.value} {mb:g} MB"] = {**answer(result.indexes, result.as_dict()),
                                                        "seconds": seconds}
for db, dsn in prisma.items():
    with psycopg.connect(dsn, autocommit=True) as conn:
        started = time.monotonic()
        result = api.suggest(conn, api.SuggestOptions(constraints=False))     # as prisma_style.py calls it
        out[f"prisma_style {db}"] = {**answer(result.indexes, result.as_dict()),
                                     "seconds": time.monotonic() - started}
    cli = subprocess.run([sys.executable, "-m", "pgtune", "suggest", "--dsn", dsn, "--format", "json",
                          "--no-constraints"], capture_output=True, text=True)
    if cli.returncode != 0:
        raise SystemExit(f"pgtune suggest on {db}: exit {cli.returncode}: {cli.stderr.strip()[-500:]}")
    doc = json.loads(cli.stdout)
    out[f"prisma_style {db} (CLI json)"] = {"set": sorted(ix["ddl"] for ix in doc["indexes"]),
                                            "cost": None, "cost_before": None, "what_if_plans": None, "json": doc}
print(json.dumps(out, default=str))
"""


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], check=True, capture_output=True, text=True).stdout.strip()


class Running:
    """A kept cluster left running by an earlier run (its dsn_for, as LocalCluster's)."""

    def __init__(self, root: Path) -> None:
        conf = (root / "data" / "pgtune.conf").read_text()
        self.port = next(line.split("=")[1].strip() for line in conf.splitlines() if line.startswith("port"))
        self.root = root

    def dsn_for(self, dbname: str) -> str:
        return f"host={self.root} port={self.port} user=postgres dbname={dbname}"


def running(root: Path) -> Running | None:
    """The kept cluster under ``root`` if it is up (a restart would lose pg_qualstats' constants)."""
    if not (root / "data" / "postmaster.pid").exists():
        return None
    try:
        pg = Running(root)
        psycopg.connect(pg.dsn_for("postgres"), connect_timeout=5).close()
    except (OSError, StopIteration, psycopg.Error):
        return None
    return pg


def tpch_cluster(root: Path) -> Running | LocalCluster:
    """tpch.py's kept cluster under ``root``, loaded from tpch.py's own cache of data files when it has them."""
    cache = root / "tpch"
    cache.mkdir(parents=True, exist_ok=True)
    for name in ("sf1", "tpchgen"):
        shared = Path("/var/tmp/pgtune-tpch") / name
        if shared.exists() and not (cache / name).exists():
            (cache / name).symlink_to(shared)
    pg = running(cache / "pg-sf1") or tpch.cluster(cache, 1.0)
    with psycopg.connect(pg.dsn_for("tpch"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
        tpch.all_visible(conn)
    return pg


def prisma_cluster(root: Path) -> Running | LocalCluster:
    """The Prisma-style databases, with and without pg_qualstats, their workload run once in a fresh window."""
    import prisma_style

    pg = running(root / "prisma") or LocalCluster(root=root / "prisma").start()
    users, jobs, events = 100_000, 200_000, 1_000_000          # prisma_style.py --scale 1
    with psycopg.connect(pg.dsn_for("postgres"), autocommit=True) as admin:
        have = {r[0] for r in admin.execute("SELECT datname FROM pg_database").fetchall()}
    for db, qualstats in PRISMA_DBS.items():
        if db in have:
            continue
        with psycopg.connect(pg.dsn_for("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(f"{db}_loading")))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(f"{db}_loading")))
        with psycopg.connect(pg.dsn_for(f"{db}_loading"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements; CREATE EXTENSION hypopg")
            if qualstats:
                conn.execute("CREATE EXTENSION pg_qualstats")
            conn.execute(prisma_style.SCHEMA)
            conn.execute(prisma_style.DATA.replace(":users", str(users)).replace(":jobs", str(jobs))
                         .replace(":events", str(events)))
            conn.execute("VACUUM ANALYZE")
        with psycopg.connect(pg.dsn_for("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(f"{db}_loading"),
                                                                           sql.Identifier(db)))
    stamp = root / "prisma" / WORKLOAD_STAMP
    if not stamp.exists() or not workload_seen(pg):   # new, or restarted: pg_qualstats forgot the constants
        print("running the Prisma-style workload (pg_stat_statements and pg_qualstats reset)", file=sys.stderr)
        for db in PRISMA_DBS:
            with psycopg.connect(pg.dsn_for(db), autocommit=True) as conn:
                reset_counters(conn)        # pg_stat_statements' reset is the cluster's: both first, then both runs
        for db in PRISMA_DBS:
            with psycopg.connect(pg.dsn_for(db), autocommit=True) as conn:
                prisma_style.run_workload(conn, users)
                conn.execute("SELECT /* pgtune */ pg_stat_force_next_flush()")
        stamp.write_text(time.strftime("%Y%m%dT%H%M%S"))     # answers kept are per workload run
    return pg


SEEN_STATEMENTS = ("SELECT /* pgtune */ count(*) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
                   "WHERE d.datname = current_database() AND s.query LIKE '%FROM \"Job\"%'")
SEEN_CONSTANTS = ("SELECT /* pgtune */ count(*) FROM pg_qualstats() q JOIN pg_database d ON d.oid = q.dbid "
                  "WHERE d.datname = current_database() AND q.lrelid = '\"Event\"'::regclass")


def workload_seen(pg: Running | LocalCluster) -> bool:
    """Both databases' pg_stat_statements hold the workload, and app's pg_qualstats its constants.

    The harness's own queries are tagged ``/* pgtune */``: pgtune leaves them out of the workload."""
    seen = True
    for db, qualstats in PRISMA_DBS.items():
        with psycopg.connect(pg.dsn_for(db), autocommit=True) as conn:
            for query in (SEEN_STATEMENTS, SEEN_CONSTANTS) if qualstats else (SEEN_STATEMENTS,):
                row = conn.execute(query).fetchone()
                seen &= row is not None and row[0] > 0
    return seen


def answers(rev: str, root: Path, tpch_dsn: str, prisma: dict[str, str], budgets: list[float],
            hypopg_budgets: list[float], again: str = "") -> dict[str, Any]:
    """What revision ``rev`` chooses in each case (kept in ``root``: a revision runs once per workload run).

    ``again``: the Prisma-style cases are asked anew under this name (TPC-H's come from the first run).
    """
    sha = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    tree = root / f"rev-{sha[:12]}"
    if not tree.exists():
        git("worktree", "add", "--detach", str(tree), sha)
    link = tree / "pgtune" / "sql"      # the wheel ships sql/ as pgtune.sql; an editable install maps it so
    if not link.exists():
        link.symlink_to("../sql")
    cases = "-".join(f"{b:g}" for b in budgets) + "-hypopg-" + "-".join(f"{b:g}" for b in hypopg_budgets)
    stamp = (root / "prisma" / WORKLOAD_STAMP).read_text().strip() + again
    return {**child(rev, tree, root / f"answers-{sha[:12]}-tpch-{cases}.json", tpch_dsn, {}, budgets, hypopg_budgets),
            **child(rev, tree, root / f"answers-{sha[:12]}-prisma-{stamp}.json", "", prisma, [], [])}


def child(rev: str, tree: Path, kept: Path, tpch_dsn: str, prisma: dict[str, str], budgets: list[float],
          hypopg_budgets: list[float]) -> dict[str, Any]:
    """CHILD run in ``tree`` (its answers kept in ``kept``)."""
    if kept.exists():
        return dict(json.loads(kept.read_text()))
    env = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{tree / 'benchmarks'}"}
    what = f"suggest at {len(budgets) + len(hypopg_budgets)} TPC-H budgets" if tpch_dsn else \
        f"suggest on {len(prisma)} Prisma-style databases"
    print(f"{rev} ({tree.name.removeprefix('rev-')}): {what}", file=sys.stderr)
    out = subprocess.run([sys.executable, "-c", CHILD, str(tree), tpch_dsn, json.dumps(prisma),
                          json.dumps(budgets), json.dumps(hypopg_budgets)],
                         env=env, cwd=tree, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{rev}: {out.stderr.strip()[-2000:]}")
    found = dict(json.loads(out.stdout.strip().splitlines()[-1]))
    kept.write_text(json.dumps(found, indent=1))
    return found


def json_diffs(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Where two advice documents differ (timings aside): JSON path, value in ``a``, value in ``b``."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) if "seconds" not in k
                for d in json_diffs(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in json_diffs(x, y, f"{path}[{i}]")]
    return [] if a == b else [(path or ".", a, b)]


def between(first: Any, middle: Any, last: Any) -> bool:
    """``middle`` lies between two numbers that differ: a figure that moved with the clock, not with the code."""
    numbers = all(isinstance(v, (int, float)) for v in (first, middle, last))
    return numbers and first != last and min(first, last) <= middle <= max(first, last)


def compare(before: str, after: str, a: dict[str, Any], b: dict[str, Any], again: dict[str, Any]) -> bool:
    """Print each case's sets and figures; true when every set is the same.

    A Prisma-style statement's window (``now() - interval '1 day'``) slides
    over rows loaded at a fixed time, so its cost moves a little from minute to
    minute: the before revision is asked again after the after one, and a
    figure that differs only by lying between the before revision's two answers
    (a number), or by being what the before revision answers again (a reason's
    "38.1x" that became "38.2x"), is counted as the clock's, not the code's.
    """
    same_all = True
    print(f"\n{before} -> {after}")
    for case in a:
        x, y, x2 = a[case], b.get(case), again.get(case, a[case])
        if y is None:
            print(f"  {case}: missing after")
            same_all = False
            continue
        same = sorted(x["set"]) == sorted(y["set"])
        same_all &= same
        cost = ""
        if x["cost"] is not None:
            moved = " (same)" if x["cost"] == y["cost"] else \
                f" (clock: the before revision again: {x2['cost']:,.2f})" if between(x["cost"], y["cost"], x2["cost"]) \
                else " (DIFFERS)"
            cost = f"; cost {x['cost']:,.2f} -> {y['cost']:,.2f}{moved}"
        drift = {p: v for p, _, v in json_diffs(x["json"], x2["json"])}
        diffs = json_diffs(x["json"], y["json"])
        real = [p for p, u, v in diffs if not (p in drift and (v == drift[p] or between(u, v, drift[p])))]
        whole = "JSON same" if not diffs else \
            f"JSON same but {len(diffs)} figures that moved with the clock" if not real else \
            f"JSON DIFFERS at {', '.join(real[:6])}" + (f" and {len(real) - 6} more" if len(real) > 6 else "")
        print(f"  {case}: {len(x['set'])} indexes, {'identical' if same else 'SETS DIFFER'}{cost}; {whole}")
        if not same:
            for ddl in sorted(set(x["set"]) - set(y["set"])):
                print(f"      - {ddl}")
            for ddl in sorted(set(y["set"]) - set(x["set"])):
                print(f"      + {ddl}")
    return same_all


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("revisions", nargs="*", help="pairs: BEFORE AFTER [BEFORE AFTER ...] (any git revision); "
                    "none: only load the databases")
    ap.add_argument("--root", type=Path, default=Path("/var/tmp/pgtune-same-sets"),
                    help="the loaded clusters, the revisions' checkouts and their answers are kept here")
    ap.add_argument("--budgets", default="250,400,500,1000,1500,2000",
                    help="tpch.py's forecast budgets, MB (its default --budgets)")
    ap.add_argument("--hypopg-budgets", default="500,1000,1500,2000",
                    help="tpch.py's HypoPG-MB budgets (its comparison with the published algorithms)")
    args = ap.parse_args()
    if len(args.revisions) % 2:
        ap.error("revisions come in pairs: BEFORE AFTER")
    budgets = [float(b) for b in args.budgets.split(",") if b]
    hypopg_budgets = [float(b) for b in args.hypopg_budgets.split(",") if b]
    tpch_pg, prisma_pg = tpch_cluster(args.root), prisma_cluster(args.root)
    prisma = {db: prisma_pg.dsn_for(db) for db in PRISMA_DBS}
    pairs = list(zip(args.revisions[::2], args.revisions[1::2], strict=True))
    same = True
    for before, after in pairs:
        a, b = (answers(rev, args.root, tpch_pg.dsn_for("tpch"), prisma, budgets, hypopg_budgets)
                for rev in (before, after))
        again = answers(before, args.root, tpch_pg.dsn_for("tpch"), prisma, budgets, hypopg_budgets,
                        again=f"-again-after-{git('rev-parse', '--short=12', after)}")
        same &= compare(before, after, a, b, again)
    print(f"\n{'identical sets in every case' if same else 'SETS DIFFER'} ({len(pairs)} pairs)")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
