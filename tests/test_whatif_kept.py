"""A question's hypothetical indexes already made stay made (issue 28: hypothetical indexes per what-if plan).

HypoPG shows the planner a table's hypothetical indexes in the order they were made, and dropping one leaves
the others' order as it was: a question without one index of the last question's set drops it and makes
none, where every index after it in the order used to be dropped and made again (settle's set less one
index, the curve's sets without one).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import whatif
from pgtune.analyze.candidates import Candidate
from pgtune.analyze.selection import ident
from pgtune.ddl import IndexKey

T = ("public", "t")
QUERY = "SELECT * FROM t WHERE c = 3 AND d = 4 ORDER BY b LIMIT 5"


def _plan(conn: psycopg.Connection[Any]) -> tuple[float, str]:
    """The query's planned cost and the hypothetical index it scans, by its columns (names hold an oid)."""
    row = conn.execute(f"EXPLAIN (FORMAT JSON) {QUERY}").fetchone()
    assert row is not None
    plan = row[0][0]["Plan"]
    while "Index Name" not in plan and plan.get("Plans"):
        plan = plan["Plans"][0]
    return plan["Total Cost"], plan.get("Index Name", "").split("btree_", 1)[-1]


@pytest.mark.needs_hypopg
def test_a_question_without_one_of_the_last_sets_indexes_makes_none(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE t (a int, b int, c int, d int)")
    conn.execute("INSERT INTO t SELECT g, g % 7, g % 11, g % 13 FROM generate_series(1, 5000) g")
    conn.execute("ANALYZE t")
    a, b, c, d = (Candidate(T, (IndexKey(col),), 1) for col in "abcd")
    cd = Candidate(T, (IndexKey("c"), IndexKey("d")), 1)
    with whatif.session(conn) as hypo:
        hypo.ensure([a, b, c, cd, d], [T])
        made = {key: oids[0][0] for key, oids in hypo.present.items()}
        hypo.ensure([a, c, cd, d], [T])         # b left out: nothing made again
        listed = [r[0] for r in conn.execute("SELECT indexrelid FROM hypopg()").fetchall()]
        assert listed == [made[ident(x)] for x in (a, c, cd, d)]
        kept = _plan(conn)
        hypo.ensure([a, b, cd, d], [T])         # c out and b back: only those after b in the order are made
        assert hypo.present[ident(a)][0][0] == made[ident(a)]
        assert all(hypo.present[ident(x)][0][0] != made[ident(x)] for x in (b, cd, d))
    with whatif.session(conn) as fresh:      # the planner sees what a session making that set afresh shows it
        fresh.ensure([a, c, cd, d], [T])
        assert _plan(conn) == kept and kept[1] == "t_c_d"
