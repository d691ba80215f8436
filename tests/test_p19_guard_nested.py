"""The drop-phase guard plans no function's statement that names the function's variables (p19, LOW).

health.workload_plans.statements_using plans the workload again before an index is
dropped. With pg_stat_statements.track = all it sent a PL/pgSQL function's
``WHERE e.site = p_site`` and a trigger's ``VALUES (NEW.site, …)`` to EXPLAIN: each
an ERROR in the server's log at every suggest run (3 per run on the Umami-shaped
server), for no plan. Such statements are now left out before planning.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.connect import connect
from pgtune.health import workload_plans


def test_nested_statements_naming_variables_are_not_planned(db: str, conn: psycopg.Connection[Any],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    if conn.info.server_version < 140000:
        pytest.skip("pg_stat_statements says which statements ran nested from PostgreSQL 14 on")
    conn.execute("CREATE TABLE event (id bigint PRIMARY KEY, site int NOT NULL, at timestamptz NOT NULL)")
    conn.execute("INSERT INTO event SELECT g, g % 100, now() - g * interval '1 minute' "
                 "FROM generate_series(1, 20000) g")
    conn.execute("CREATE INDEX event_site_idx ON event (site)")
    conn.execute("CREATE TABLE hourly (site int PRIMARY KEY, n bigint NOT NULL DEFAULT 0)")
    conn.execute("ANALYZE event")
    conn.execute("""CREATE FUNCTION site_views(p_site int) RETURNS bigint LANGUAGE plpgsql STABLE AS $f$
                    BEGIN RETURN (SELECT count(*) FROM event e WHERE e.site = p_site); END $f$""")
    conn.execute("""CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $f$
                    BEGIN
                      INSERT INTO hourly AS h (site, n) VALUES (NEW.site, 1)
                      ON CONFLICT (site) DO UPDATE SET n = h.n + 1;
                      RETURN NEW;
                    END $f$""")
    conn.execute("CREATE TRIGGER event_bump AFTER INSERT ON event FOR EACH ROW EXECUTE FUNCTION bump()")
    conn.execute("SELECT pg_stat_statements_reset()")
    conn.execute("SET pg_stat_statements.track = 'all'")
    for site in range(10):
        conn.execute("SELECT site_views(%s)", (site,))
        conn.execute("INSERT INTO event VALUES (%s, %s, now())", (100000 + site, site))
        conn.execute("SELECT id FROM event WHERE site = %s", (site,))
    conn.execute("RESET pg_stat_statements.track")

    planned: list[str] = []
    real = workload_plans.explain

    def recorded(c: psycopg.Connection[Any], query: str, **kw: Any) -> Any:
        planned.append(query)
        return real(c, query, **kw)

    monkeypatch.setattr(workload_plans, "explain", recorded)
    with connect(db) as own:
        used = workload_plans.statements_using(own, {("public", "event_site_idx")})
    assert any("site_views" not in u.statement.query and "WHERE site = $1" in u.statement.query for u in used)
    # Without the fix: both were sent to EXPLAIN, and the server refused each (an ERROR in its log).
    assert not [q for q in planned if "p_site" in q or "NEW.site" in q], planned
