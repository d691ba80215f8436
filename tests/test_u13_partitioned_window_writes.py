"""A partitioned table's index upkeep is charged for the writes of pg_stat_statements' window, not for a load
made before it (u13: a Papermark-shaped database, View partitioned by month, 5M rows loaded, then the app's
workload: the counters' share of the load charged to the window grew as the window aged, 866,000 then 1,116,656
against a saving of 1,198,459, until the same workload's index was withdrawn). Plain tables were capped at the
statements' own rows already; a partitioned table now is too, its partitions' rows counted for it."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune import api


@pytest.mark.needs_hypopg
def test_a_load_before_the_window_is_not_charged_to_a_partitioned_table(conn: psycopg.Connection[Any]) -> None:
    conn.execute('CREATE TABLE events (id bigint NOT NULL, team int NOT NULL, at timestamptz NOT NULL) '
                 'PARTITION BY RANGE (at)')
    conn.execute("CREATE TABLE events_a PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2026-07-01')")
    conn.execute("CREATE TABLE events_b PARTITION OF events DEFAULT")
    conn.execute("INSERT INTO events SELECT g, g % 500, timestamptz '2026-01-01' + g * interval '30 seconds' "
                 "FROM generate_series(1, 400000) g")          # the load: before the window
    conn.execute("ANALYZE events")
    conn.execute("SELECT pg_stat_statements_reset()")
    for i in range(30):
        conn.execute("SELECT count(*) FROM events WHERE team = %s AND at >= %s", (i, "2026-03-01"), prepare=True)
    conn.execute("INSERT INTO events VALUES (0, 1, '2026-02-01')")     # the window's own writes: one row
    result = api.suggest(conn, api.SuggestOptions(constraints=False))
    # The hint names the cap where the counters' share of the window is over WINDOW_GAP rows (it depends on how
    # long the server's statistics have counted before the window: a fresh server's run has it).
    told = [h for h in result.indexes.hints if h.startswith("public.events: charged")]
    assert all(h.startswith("public.events: charged 1 written rows") for h in told), told
    on_events = [s for s in result.indexes.indexes if s.table == "events"]
    assert on_events and all(s.maintenance_cost < 100 for s in on_events), on_events
