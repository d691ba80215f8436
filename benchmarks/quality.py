"""Quality of pgtune's advice on the demo workload, against a naive baseline.

The naive baseline is what a per-predicate advisor (or a hurried DBA) does:
one single-column index on every column the workload filters, joins or sorts
on, unless an existing index already leads with it. Both are measured on the
same data and the same concrete statements: workload planner cost (calls x
cost), measured execution time, number of indexes and their real total size.

    python benchmarks/quality.py [--scale 1.0]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import psycopg
from psycopg import sql
from tabulate import tabulate

from pgtune import api, ddl
from pgtune.analyze import Role, bind
from pgtune.capture import read_catalog, read_workload, reset_counters
from pgtune.cluster import LocalCluster
from pgtune.demo.runner import load, measure, run_workload, templates


def totals(conn: psycopg.Connection[Any], scale: float) -> tuple[float, float]:
    m = measure(conn, scale)
    calls = {t.name: t.calls for t in templates()}
    return (sum(m[n].cost * calls[n] for n in m), sum(m[n].ms * calls[n] for n in m))


def index_bytes(conn: psycopg.Connection[Any], names: list[str]) -> int:
    row = conn.execute("SELECT coalesce(sum(pg_relation_size(c.oid)), 0) FROM pg_class c "
                       "WHERE c.relkind = 'i' AND c.relname = ANY(%s)", (names,)).fetchone()
    return int(row[0]) if row else 0


def naive_indexes(conn: psycopg.Connection[Any]) -> list[tuple[str, str, str]]:
    """(schema, table, column) for every predicate column no existing index leads with."""
    catalog = read_catalog(conn)
    leading = {(i.schema, i.table, i.columns[0]) for i in catalog.indexes if i.columns and i.columns[0]}
    out: list[tuple[str, str, str]] = []
    for st in read_workload(conn):
        try:
            shape = bind(st.query, catalog)
        except ValueError:
            continue
        for u in shape.uses:
            key = (u.table[0], u.table[1], u.column)
            if u.role in (Role.EQ, Role.RANGE, Role.JOIN, Role.ORDER) and key not in leading and key not in out:
                out.append(key)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    rows = []
    with LocalCluster() as cluster:
        with psycopg.connect(cluster.dsn, autocommit=True) as admin:
            admin.execute("CREATE DATABASE bench")
        with psycopg.connect(cluster.dsn_for("bench"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements; CREATE EXTENSION hypopg")
            load(conn, args.scale)
            reset_counters(conn)
            run_workload(conn, args.scale)
            base_cost, base_ms = totals(conn, args.scale)
            rows.append(["no new index", 0, "0.0", f"{base_cost:,.0f}", "1.0x", f"{base_ms:,.0f}", "-"])

            # pgtune
            started = time.monotonic()
            folder = cluster.root / "bench-migration"
            result = api.suggest(conn, api.SuggestOptions(constraints=False),
                                 emit=api.EmitOptions(directory=folder, slug="bench"))
            advise_s = time.monotonic() - started
            advice, m = result.indexes, result.migration
            assert m is not None
            api.apply(conn, folder)
            # Indexes that exist only for a foreign key (deletes on the parent) serve no statement
            # of this workload; the naive baseline has no counterpart, so they are counted apart.
            fk_only = {ix.name for ix in advice.indexes if ix.origin == "foreign key" and not ix.queries}
            names = [ix.name for p in m.phases for ix in p.indexes if ix.name not in fk_only]
            cost, ms = totals(conn, args.scale)
            size = index_bytes(conn, names)
            fk_size = index_bytes(conn, sorted(fk_only))
            rows.append(["pgtune (workload indexes)", len(names), f"{size / 1048576:.1f}", f"{cost:,.0f}",
                         f"{base_cost / cost:.1f}x", f"{ms:,.0f}", f"{advise_s:.1f}s"])
            if fk_only:
                rows.append([f"  + foreign-key-only indexes: {', '.join(sorted(fk_only))}", len(fk_only),
                             f"{fk_size / 1048576:.1f}", "", "", "", ""])
            pg_cost, pg_count, pg_size = cost, len(names), size
            api.rollback(conn, folder)

            # naive: one single-column index per predicate column
            naive = naive_indexes(conn)
            created = []
            for schema, table, column in naive:
                name = ddl.index_name(table, (ddl.IndexKey(column),), "naive")
                conn.execute(ddl.create_index(schema, table, name, (ddl.IndexKey(column),), concurrently=False))
                created.append(name)
            for schema, table in {(s, t) for s, t, _ in naive}:
                conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, table)))
            cost, ms = totals(conn, args.scale)
            size = index_bytes(conn, created)
            rows.append(["naive (1 index per predicate column)", len(created), f"{size / 1048576:.1f}",
                         f"{cost:,.0f}", f"{base_cost / cost:.1f}x", f"{ms:,.0f}", "-"])
            naive_cost, naive_count, naive_size = cost, len(created), size
    print(tabulate(rows, headers=["index set", "indexes", "size MB", "workload cost", "cost cut",
                                  "measured ms", "advice time"], disable_numparse=True))
    ok = pg_cost <= naive_cost and pg_count < naive_count and pg_size < naive_size
    print(f"\npgtune vs naive: cost {pg_cost:,.0f} vs {naive_cost:,.0f}, {pg_count} vs {naive_count} indexes, "
          f"{pg_size / 1048576:.1f} vs {naive_size / 1048576:.1f} MB -> "
          f"{'pgtune wins on all three' if ok else 'pgtune does NOT beat the baseline'}")


if __name__ == "__main__":
    main()
