"""A parallel index-only scan's heap fetches are charged for all its rows, not one worker's share (r11 F14).

Under a Gather, EXPLAIN gives a parallel-aware scan's rows per worker (the
total over the parallel divisor, 2.4 with two workers), while PostgreSQL's
cost_index divides only the CPU cost by it: the index's and the heap's page
reads are the whole scan's. Read per worker, the visibility charge of q9
counted 42% of the fetches, and on the tables large enough for parallel plans
(Langfuse's 3.5 million observations) a false index-only-scan gain could
survive. The parallel plan is forced here on 300,000 rows by the planner's
own settings, as a bigger table gets it.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune.analyze import whatif
from pgtune.analyze.calibration import Pricing
from pgtune.analyze.candidates import Candidate
from pgtune.capture import read_catalog
from pgtune.ddl import IndexKey
from pgtune.explain import explain
from tests.helpers import all_visible, steady_state, visibility_lost

# Half-full pages: the update below stays on each row's page (HOT), so the table keeps its size and every page
# loses its all-visible bit. 6,000 rows of a kind on ~8,000 pages: fewer rows than pages, where the per-worker
# reading counted fewer pages (over the table's pages both readings hit the same cap).
SCHEMA = """
CREATE TABLE ev (id int PRIMARY KEY, kind int NOT NULL, flag boolean NOT NULL, pad text)
  WITH (fillfactor = 50, autovacuum_enabled = false);
INSERT INTO ev SELECT g, g % 50, g % 11 = 0, repeat('y', 100) FROM generate_series(1, 300000) g;
"""
# A parallel index-only scan, whatever the table's size; no bitmap or sequential path.
FORCED = {"parallel_setup_cost": "0", "parallel_tuple_cost": "0", "min_parallel_index_scan_size": "0",
          "min_parallel_table_scan_size": "0", "max_parallel_workers_per_gather": "2", "enable_seqscan": "off",
          "enable_bitmapscan": "off"}
QUERY = "SELECT count(*), flag FROM ev WHERE kind = 7 GROUP BY flag"


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("Plans", ()) for n in _nodes(child))]


def _parallel_ios(plan: dict[str, Any]) -> bool:
    return any(n.get("Node Type") == "Index Only Scan" and n.get("Parallel Aware") for n in _nodes(plan["Plan"]))


@pytest.mark.needs_hypopg
def test_a_parallel_index_only_scan_pays_every_heap_fetch(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    all_visible(conn, "ev")
    steady_state(conn)
    conn.execute("UPDATE ev SET pad = repeat('z', 100)")
    visibility_lost(conn, "ev", 0.9)
    table = read_catalog(conn).tables[("public", "ev")]
    assert table.visibility_lost > 0.9 and table.relallvisible >= table.relpages, table
    for name, value in FORCED.items():
        conn.execute(sql.SQL("SELECT set_config({}, {}, false)").format(sql.Literal(name), sql.Literal(value)))
    cand = Candidate(("public", "ev"), (IndexKey("kind"),), 1, include=("flag",))
    with whatif.session(conn, pricing=Pricing(read_catalog(conn))) as hypo:
        hypo.create(0, cand)
        plan = explain(conn, QUERY)
        corrected = hypo.cost(plan)
    assert _parallel_ios(plan.plan), plan.plan
    conn.execute("CREATE INDEX ev_kind_idx ON ev (kind) INCLUDE (flag)")
    built = explain(conn, QUERY)
    # Built, the fetches make the parallel plan no cheaper than the serial one the planner takes; the corrected
    # what-if cost is its cost (18,659 against 18,711 here; per worker, 9,624 against 19,733).
    assert "ev_kind_idx" in built.indexes, built.plan
    assert built.cost > 2 * plan.cost, (plan.cost, built.cost)      # the heap fetches the what-if plan missed
    assert corrected == pytest.approx(built.cost, rel=0.05), (plan.cost, corrected, built.cost)
