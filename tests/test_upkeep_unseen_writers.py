"""A table written by a trigger or a function is charged the upkeep its counters give (r11 F3).

Each table's write charge is capped at the rows the workload's own statements
wrote in pg_stat_statements' window (snapshot.charge_window_writes: a load before
the window is no upkeep). With pg_stat_statements.track = top (the default), the
INSERT a trigger or a function makes is not among them: an audit table filled by
a trigger on every UPDATE was charged 0 rows, and its index shown as free.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.analyze import Options


def _audited(conn: psycopg.Connection[Any], partitioned: bool, reads: int,
             options: Options | None = None) -> api.Suggestion:
    """items, whose every UPDATE a trigger logs to audit; 100,000 rows logged in the window, ``reads`` lookups."""
    part = " PARTITION BY RANGE (at)" if partitioned else ""
    conn.execute(f"CREATE TABLE audit (id bigserial, entity int NOT NULL, at timestamptz NOT NULL, "
                 f"payload text){part}")
    if partitioned:
        conn.execute("CREATE TABLE audit_d PARTITION OF audit DEFAULT")
    conn.execute("CREATE TABLE items (id int PRIMARY KEY, n int NOT NULL)")
    conn.execute("INSERT INTO items SELECT g, 0 FROM generate_series(1, 5000) g")
    conn.execute("CREATE FUNCTION log_it() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                 "INSERT INTO audit (entity, at, payload) VALUES (NEW.id, now(), 'x'); RETURN NEW; END $$")
    conn.execute("CREATE TRIGGER t AFTER UPDATE ON items FOR EACH ROW EXECUTE FUNCTION log_it()")
    conn.execute("INSERT INTO audit (entity, at, payload) SELECT g % 5000, now(), 'x' FROM generate_series(1, 20000) g")
    conn.execute("ANALYZE")
    conn.execute("SELECT pg_stat_statements_reset()")
    for _ in range(20):          # the window: 100,000 audit rows, each written by the trigger
        conn.execute("UPDATE items SET n = n + 1")
    for i in range(reads):
        conn.execute("SELECT * FROM audit WHERE entity = %s", (i,), prepare=True)
    conn.execute("SELECT pg_stat_force_next_flush()")
    return api.suggest(conn, api.SuggestOptions(indexes=options or Options(), constraints=False))


@pytest.mark.needs_hypopg
@pytest.mark.parametrize("partitioned", [False, True])
def test_an_audit_table_a_trigger_fills_is_charged_its_writes(conn: psycopg.Connection[Any],
                                                               partitioned: bool) -> None:
    result = _audited(conn, partitioned, 300)      # read far more than written: the index stays worth its upkeep
    (ix,) = [s for s in result.indexes.indexes if s.table == "audit"]
    assert ix.maintenance_cost is not None and ix.maintenance_cost > 0, ix
    assert not any("audit: charged 0 written rows" in h for h in result.indexes.hints), result.indexes.hints


@pytest.mark.needs_hypopg
def test_a_statement_an_index_would_cut_but_for_its_upkeep_is_said_so(conn: psycopg.Connection[Any]) -> None:
    """5 lookups against 100,000 rows written: no index; the hint said no index could make the lookup cheaper."""
    # The whole of the counters charged (write_scale 1): the measured scale moves with the cluster's age.
    result = _audited(conn, False, 5, Options(write_scale=1.0))
    assert not [s for s in result.indexes.indexes if s.table == "audit"], [s.reason for s in result.indexes.indexes]
    (hint,) = [h for h in result.indexes.hints if "workload's planned cost" in h]
    assert "an index would make it cheaper, but the writes" in hint and "no index pgtune" not in hint, hint
