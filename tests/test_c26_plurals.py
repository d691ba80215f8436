"""suggest's progress counts are singular for one (c26, LOW): a one-statement workload read "analyzed 1
statements" and "1 candidate indexes" on stderr."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.helpers import run, steady_state, suggest


@pytest.mark.needs_hypopg
def test_one_statement_and_one_candidate_are_singular_in_the_progress_lines(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE t (id int PRIMARY KEY, a int, b text)")
    conn.execute("INSERT INTO t SELECT g, g % 1000, md5(g::text) FROM generate_series(1, 50000) g")
    conn.execute("ANALYZE t")
    steady_state(conn)
    run(conn, "SELECT b FROM t WHERE a = %s", [(i,) for i in range(5)], times=10)
    said: list[str] = []
    advice = suggest(conn, progress=said.append)
    assert advice.indexes
    assert "analyzed 1 statement, skipped 0" in said, said
    assert "1 candidate index" in said, said
    assert not [m for m in said if "1 statements" in m or "1 candidate indexes" in m or "1 steps" in m], said
