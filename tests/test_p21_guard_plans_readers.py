"""health's drop guard plans only statements that may scan the indexes asked about (p21, LOW).

statements_using planned every costly statement of pg_stat_statements, loads included: a bulk
``INSERT … SELECT … FROM generate_series($1, $2)`` (its $n untyped: "function generate_series(unknown,
unknown) is not unique") and a load from a session's temporary table ("relation … does not exist") were an
ERROR each in the server's log at every health --emit (10 per run on the chatwoot-shaped trial). A statement
naming none of the indexes' tables (an INSERT's target is written, not scanned), their parents, a view or a
set-returning function is no longer planned.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.connect import connect
from pgtune.health import workload_plans


def test_loads_naming_no_indexed_table_are_not_planned(db: str, conn: psycopg.Connection[Any],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    conn.execute("CREATE TABLE event (id bigint PRIMARY KEY, site int NOT NULL, at timestamptz NOT NULL)")
    conn.execute("INSERT INTO event SELECT g, g % 100, now() - g * interval '1 minute' "
                 "FROM generate_series(1, 20000) g")
    conn.execute("CREATE INDEX event_site_idx ON event (site)")
    conn.execute("CREATE VIEW recent_event AS SELECT id, site FROM event WHERE at > now() - interval '1 day'")
    conn.execute("ANALYZE event")
    conn.execute("SELECT pg_stat_statements_reset()")
    for k in range(5):
        conn.execute("INSERT INTO event (id, site, at) SELECT g, g %% 100, now() FROM generate_series(%s, %s) g",
                     (100000 + 10 * k, 100000 + 10 * k + 9))
        conn.execute("CREATE TEMP TABLE pick AS SELECT g AS n FROM generate_series(1, 5) g")
        conn.execute("INSERT INTO event (id, site, at) SELECT 200000 + 10 * %s + n, n, now() FROM pick", (k,))
        conn.execute("DROP TABLE pick")
        conn.execute("SELECT id FROM event WHERE site = %s", (k,)).fetchall()
        conn.execute("SELECT id FROM recent_event WHERE site = %s", (k,)).fetchall()

    planned: list[str] = []
    real = workload_plans.explain

    def recorded(c: psycopg.Connection[Any], query: str, **kw: Any) -> Any:
        planned.append(query)
        return real(c, query, **kw)

    monkeypatch.setattr(workload_plans, "explain", recorded)
    with connect(db) as own:
        used = workload_plans.statements_using(own, {("public", "event_site_idx")})
    texts = [u.statement.query for u in used]
    assert any("FROM event WHERE site" in t for t in texts), texts
    assert any("FROM recent_event" in t for t in texts), texts
    # Without the fix: both loads were sent to EXPLAIN and refused (an ERROR each in the server's log).
    assert not [q for q in planned if "generate_series" in q or "FROM pick" in q], planned
