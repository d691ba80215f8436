"""pgtune's index selection on TPC-DS: the built cost of each budget's set beside the predicted one.

TPC-DS at scale factor 1 (about 1 GB of data over 24 tables) under tpch.py's
protocol (Kossmann et al., VLDB 2020): no keys or indexes at the start,
``random_page_cost = 1.1``, no parallel workers, no JIT; relative cost = the
workload's planner cost with the indexes divided by its cost without them.
The queries are the 99 of DuckDB's TPC-DS extension (its ``tpcds_queries()``,
the specification's templates with their qualification parameters), read at
run time from the generator, never kept here. Kossmann et al. left 9 out
(4, 6, 9, 10, 11, 32, 35, 41 and 95) and measured the published algorithms
on the other 90; so does this benchmark by default (``--all`` keeps them:
every one of the 99 plans on PostgreSQL 15).

The data comes from the same extension's ``dsdgen``: the PyPI packages
``duckdb`` and ``duckdb-extension-tpcds`` (the DuckDB project's signed build
of its tpcds extension, so no download from DuckDB's extension server), a
benchmark-only dependency: ``pip install -e '.[bench]'``. The cache keeps
the generated files and a loaded cluster, so a second run starts in seconds.

Per budget it prints the built relative cost minus the predicted one (suggest's
final plans with its set, summed: tpch.emitted), in points (the goal: within
2 at every budget), and suggest's seconds with the load average.
``--index-advisor PATH_OR_URL`` runs Supabase's index_advisor over the same
queries and builds its set beside pgtune's, as tpch.py does.

    python benchmarks/tpcds.py [--cache /var/tmp/pgtune-tpcds] [--budgets 250,500,1000,2000]
                               [--index-advisor /path/to/index_advisor--0.2.0.sql]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import peer_advisor
import psycopg
import tpch
from psycopg import sql

from pgtune.analyze import SizeBasis
from pgtune.cluster import LocalCluster

LEFT_OUT = (4, 6, 9, 10, 11, 32, 35, 41, 95)    # Kossmann et al.'s evaluation leaves these out

# Runs in a child process, so that DuckDB (a benchmark-only dependency) is imported only on first use.
GENERATE = """
import json, sys
from pathlib import Path
import duckdb, duckdb_extension_tpcds
scale, out = float(sys.argv[1]), Path(sys.argv[2])
extension = next(Path(duckdb_extension_tpcds.__file__).parent.glob("extensions/*/tpcds.duckdb_extension"))
db = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
db.execute("SET enable_progress_bar = false")   # DuckDB 1.5 refuses it as a connect-time option
db.execute("LOAD " + "'" + str(extension).replace("'", "''") + "'")
db.execute("CALL dsdgen(sf=" + repr(scale) + ")")
schema = {}
for table, column, kind in db.execute("SELECT table_name, column_name, data_type FROM information_schema.columns "
                                      "ORDER BY table_name, ordinal_position").fetchall():
    schema.setdefault(table, []).append([column, kind])
for table in schema:
    db.execute("COPY " + table + " TO '" + str(out / (table + ".csv")) + "' (FORMAT csv, HEADER false)")
(out / "queries.json").write_text(json.dumps(db.execute("SELECT query_nr, query FROM tpcds_queries()").fetchall()))
(out / "schema.json").write_text(json.dumps(schema))
"""


def generate(cache: Path, scale: float) -> Path:
    """The data files, the schema and the queries, made by DuckDB's dsdgen into the cache on first use."""
    out = cache / f"sf{scale:g}"
    if not (out / "schema.json").exists():
        out.mkdir(parents=True, exist_ok=True)
        print(f"generating TPC-DS SF{scale:g} (DuckDB's dsdgen)", file=sys.stderr)
        try:
            subprocess.run([sys.executable, "-c", GENERATE, f"{scale:g}", str(out)], check=True)
        except subprocess.CalledProcessError as e:
            raise SystemExit("the TPC-DS generator failed; it needs the bench extra: pip install -e '.[bench]'") \
                from e
    return out


def column_type(duckdb_type: str) -> str:
    """DuckDB's type of a dsdgen column as PostgreSQL's: its BIGINTs are the specification's identifiers and
    integers (every value fits an integer), its VARCHARs the specification's char(N) and varchar(N)."""
    kind = duckdb_type.lower()
    return "integer" if kind == "bigint" else kind


def load(conn: psycopg.Connection[Any], files: Path) -> None:
    """Create the tables without keys and COPY the CSV files in."""
    for table, columns in json.loads((files / "schema.json").read_text()).items():
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(
            sql.Identifier(table),
            sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(column_type(t)))
                               for c, t in columns)))
        started = time.monotonic()
        with open(files / f"{table}.csv", "rb") as f, conn.cursor() as cur, \
                cur.copy(sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(sql.Identifier(table))) as copy:
            while chunk := f.read(1 << 22):
                copy.write(chunk)
        print(f"loaded {table} in {time.monotonic() - started:.0f}s", file=sys.stderr)
    tpch.all_visible(conn)


def cluster(cache: Path, scale: float) -> LocalCluster:
    """The kept cluster with the data loaded (loaded on first use)."""
    pg = LocalCluster(root=cache / f"pg-sf{scale:g}", settings=tpch.PROTOCOL).start()
    with psycopg.connect(pg.dsn, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = 'tpcds'").fetchone() is None:
            files = generate(cache, scale)
            admin.execute("DROP DATABASE IF EXISTS tpcds_loading")
            admin.execute("CREATE DATABASE tpcds_loading")
            with psycopg.connect(pg.dsn_for("tpcds_loading"), autocommit=True) as conn:
                load(conn, files)
            admin.execute("ALTER DATABASE tpcds_loading RENAME TO tpcds")   # only a complete load gets the name
    return pg


def queries(cache: Path, scale: float, every: bool) -> tpch.Queries:
    """(name, text) of the workload: the generator's 99 queries, less Kossmann et al.'s 9 unless ``every``."""
    found = json.loads((generate(cache, scale) / "queries.json").read_text())
    return [(f"Q{n}", re.sub(r";\s*$", "", text.strip())) for n, text in found if every or n not in LEFT_OUT]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=Path("/var/tmp/pgtune-tpcds"),
                    help="where the data files and the loaded cluster are kept")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--budgets", default="250,500,1000,2000", help="MB (pgtune's size forecast), comma-separated")
    ap.add_argument("--all", action="store_true", help="all 99 queries, not Kossmann et al.'s 90")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--index-advisor", metavar="PATH_OR_URL",
                    help="also run Supabase's index_advisor over the same queries, from its SQL file "
                         "(index_advisor--0.2.0.sql of github.com/supabase/index_advisor; read at run time), "
                         "build its set and print it beside pgtune's")
    args = ap.parse_args()
    budgets = [float(b) for b in args.budgets.split(",")]
    pg = cluster(args.cache, args.scale)
    texts = queries(args.cache, args.scale, args.all)
    report: dict[str, Any] = {"scale": args.scale, "queries": [n for n, _ in texts], "budgets": []}
    try:
        with psycopg.connect(pg.dsn_for("tpcds"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
            # A crashed run's leftovers, by relname: regclass::text quotes a name with capitals, which Identifier
            # would quote again (the DROP failed: index ""lineitem_l_partkey_where_…" does not exist).
            for row in conn.execute("SELECT x.relname FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid "
                                    "JOIN pg_class c ON c.oid = i.indrelid "
                                    "WHERE c.relnamespace = 'public'::regnamespace").fetchall():
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier("public", row[0])))
            tpch.all_visible(conn)
            base, failed = tpch.planned_cost(conn, texts)
            if failed:
                raise SystemExit(f"queries that do not plan: {', '.join(failed)}")
            # Every budget is advised on the bare database first (built indexes would change the advice).
            advised = []
            for budget in budgets:
                result, seconds = tpch.advise(conn, budget, SizeBasis.FORECAST, texts)
                advised.append((budget, result, seconds, os.getloadavg()[0]))
            peer = peer_advisor.run(pg.dsn_for("tpcds"), peer_advisor.read_source(args.index_advisor), texts) \
                if args.index_advisor else None
            _every, sizes, nested = tpch.built_vs_predicted(conn, advised, base, report,
                                                            f"TPC-DS SF{args.scale:g}", texts)
            if peer is not None:
                tpch.side_by_side(conn, report, peer, base, texts)
            ratios = {n: f / r for n, (f, r) in sizes.items() if f and r}
            print(f"\nsets nested: {'yes' if nested else 'NO'}; forecast/real size of {len(ratios)} indexes: "
                  f"{min(ratios.values(), default=0):.2f}x to {max(ratios.values(), default=0):.2f}x")
            report.update(nested=nested, size_ratios=ratios)
            for n, r in sorted(ratios.items(), key=lambda kv: kv[1]):
                print(f"  {n}: forecast {sizes[n][0] / 1048576:.1f} MB, real {sizes[n][1] / 1048576:.1f} MB "
                      f"({r:.2f}x)")
            report["sizes_mb"] = {n: [f / 1048576, r / 1048576] for n, (f, r) in sizes.items()}
    finally:
        pg.stop()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
