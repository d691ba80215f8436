"""The selection's what-if costing says how far it is (issue 28, p11): on a 20 MB log suggest printed "what-if
costing of 1745 candidates" and then nothing for 18 minutes, work a DBA could not tell from a hang."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest

from pgtune.analyze import advisor
from tests.helpers import run, steady_state, suggest


@pytest.mark.needs_hypopg
def test_the_selection_says_how_many_plans_it_has_asked(conn: psycopg.Connection[Any],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    conn.execute("CREATE TABLE t (id int PRIMARY KEY, a int, b int, c int)")
    conn.execute("INSERT INTO t SELECT g, g % 1000, g % 500, g % 7 FROM generate_series(1, 50000) g")
    conn.execute("ANALYZE t")
    steady_state(conn)
    for query in ("SELECT id FROM t WHERE a = %s", "SELECT id FROM t WHERE b = %s AND c = 3",
                  "SELECT count(*) FROM t WHERE a = %s AND b > 10"):
        run(conn, query, [(i,) for i in range(5)], times=10)
    monkeypatch.setattr(advisor, "PROGRESS_S", 0.0)      # a line at every batch of questions
    said: list[str] = []
    advice = suggest(conn, progress=said.append)
    assert advice.indexes
    lines = [m for m in said if m.startswith("what-if costing: ")]
    assert lines and all(re.search(r"\d plans? asked, \d+ index(es)? chosen so far", m) for m in lines), said
