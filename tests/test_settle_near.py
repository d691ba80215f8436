"""The final plans (costing.settle) are made only for the statements that read a table with a chosen index.

A statement whose tables hold none of the chosen indexes keeps its plan: settle planned it again with no
hypothetical index on its tables and found what it had (issue 28: a round trip's share each, and a
workload's statements on tables no index is proposed for are often most of it).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import advisor
from pgtune.capture import read_queries_file

from .helpers import suggest


@pytest.mark.needs_hypopg
def test_a_statement_on_a_table_with_no_chosen_index_is_not_planned_again(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    conn.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer int NOT NULL, note text)")
    conn.execute("INSERT INTO orders SELECT g, g % 5000, 'n' || g FROM generate_series(1, 100000) g")
    # kind has one value: an index on it serves nothing, so the candidate stays out of the set.
    conn.execute("CREATE TABLE logs (id bigint PRIMARY KEY, kind int NOT NULL, body text)")
    conn.execute("INSERT INTO logs SELECT g, 1, 'b' || g FROM generate_series(1, 100000) g")
    conn.execute("ANALYZE orders; ANALYZE logs")
    settled: list[list[str]] = []
    real = advisor.settle

    def spy(sessions: Any, chosen: Any, analyses: Any, positions: Any, name: Any, *rest: Any) -> Any:
        positions = list(positions)
        settled.append([analyses[p].statement.query for p in positions])
        return real(sessions, chosen, analyses, positions, name, *rest)

    monkeypatch.setattr(advisor, "settle", spy)
    advice = suggest(conn, read_queries_file("SELECT id, note FROM orders WHERE customer = 42;\n"
                                             "SELECT count(*) FROM logs WHERE kind = 1;"))
    assert [ix.table for ix in advice.indexes] == ["orders"], [ix.ddl for ix in advice.indexes]
    assert settled and all(queries == ["SELECT id, note FROM orders WHERE customer = 42"] for queries in settled), \
        settled
    logs = next(s for s in advice.statements if "logs" in s.query)
    assert logs.cost_before is not None and logs.cost_after == logs.cost_before and logs.indexes == []
    orders = next(s for s in advice.statements if "orders" in s.query)
    assert orders.cost_after is not None and orders.cost_before is not None
    assert orders.cost_after < orders.cost_before and orders.indexes == [advice.indexes[0].name]
