"""A start/end CHECK's confidence comes from the data and the application's writes (q9, Langfuse observations).

CHECK (end_time >= start_time) was proposed at high confidence: the names
paired and no row broke it. The application (its ingestion) sends both
timestamps as it receives them from the SDKs, so a client whose clock or
event sends them out of order would have its write refused: low, listed and
never written (r11: at medium, ``--emit --constraints`` wrote it, and the
ingest's next out-of-order event was refused). A NULL end_time, an observation
still open, which the schema allows, passes the CHECK: the application's own
inserts and updates are run against the applied constraint.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from pgtune import api
from pgtune.constraints import Confidence, propose

from .helpers import steady_state

SCHEMA = """
CREATE TABLE observations (id text PRIMARY KEY, project_id text NOT NULL, type text NOT NULL,
  start_time timestamp(3) NOT NULL, end_time timestamp(3), name text);
INSERT INTO observations SELECT 'o' || g, 'proj_' || (g % 5), 'SPAN', timestamp '2026-01-01' + g * interval '1 s',
  CASE WHEN g % 10 > 0 THEN timestamp '2026-01-01' + g * interval '1 s' + (g % 7) * interval '1 ms' END, 'n'
FROM generate_series(1, 5000) g;
ANALYZE observations;
"""

INGEST = ("INSERT INTO observations (id, project_id, type, start_time, end_time, name) VALUES (%s, %s, %s, %s, %s, %s) "
          "ON CONFLICT (id) DO UPDATE SET end_time = EXCLUDED.end_time")


def _order(conn: psycopg.Connection[Any]) -> Any:
    (found,) = [c for c in propose(conn).constraints if c.kind == "column-order"]
    assert found.check == "end_time >= start_time", found
    return found


def test_timestamps_the_application_sends_are_never_written(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(SCHEMA)
    steady_state(conn)
    t0 = datetime(2026, 2, 1)
    for i in range(20):
        conn.execute(INGEST, (f"new{i}", "proj_1", "SPAN", t0, t0 + timedelta(milliseconds=5), "n"))
    for i in range(30):
        conn.execute("SELECT * FROM observations WHERE project_id = %s AND name = %s", ("proj_1", f"x{i}"),
                     prepare=True)
    found = _order(conn)
    assert found.confidence == Confidence.LOW and not found.confidence.written, found
    assert "send end_time, start_time as values" in found.evidence["low"], found.evidence
    api.suggest(conn, api.SuggestOptions(constraints=True),
                emit=api.EmitOptions(directory=tmp_path / "m", constraints=True))
    assert not any("end_time >= start_time" in f.read_text() for f in (tmp_path / "m").glob("*.sql"))
    api.apply(conn, tmp_path / "m")
    # the ingest's next event, sent with its end before its start (a client's clock), is still accepted
    conn.execute(INGEST, ("late", "proj_1", "SPAN", t0, t0 - timedelta(milliseconds=3), "n"))


def test_timestamps_the_server_writes_stay_high(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    steady_state(conn)
    for i in range(20):      # the server's clock on both sides; the application sends neither
        conn.execute("INSERT INTO observations (id, project_id, type, start_time, end_time) "
                     "VALUES (%s, %s, 'SPAN', now(), now())", (f"srv{i}", "proj_2"))
    found = _order(conn)
    assert found.confidence == Confidence.HIGH
    # Applied, it never refuses an open observation (end_time NULL), inserted or set back to NULL.
    for statement in found.ddl:
        conn.execute(statement)
    conn.execute(INGEST, ("open1", "proj_1", "SPAN", datetime(2026, 2, 1), None, "n"))
    conn.execute("UPDATE observations SET end_time = NULL WHERE id = %s", ("srv3",))
    assert conn.execute("SELECT count(*) FROM observations WHERE end_time IS NULL AND id IN ('open1', 'srv3')"
                        ).fetchone() == (2,)


def test_writes_whose_values_are_not_provably_the_servers_are_the_applications(conn: psycopg.Connection[Any]) -> None:
    """r10: an INSERT with no column list, or end_time set from an expression over a parameter, read as the
    server's value, and the CHECK stayed high."""
    conn.execute(SCHEMA)
    steady_state(conn)
    for i in range(20):
        conn.execute("INSERT INTO observations VALUES (%s, 'proj_1', 'SPAN', now(), now(), 'n')", (f"nl{i}",))
    assert _order(conn).confidence == Confidence.LOW
    conn.execute("SELECT pg_stat_statements_reset()")
    steady_state(conn)
    for i in range(20):
        conn.execute("UPDATE observations SET end_time = to_timestamp(%s)::timestamp WHERE id = %s",
                     (1_767_312_000 + i, f"o{i + 1}"))   # 2026-01-02: after its start
    found = _order(conn)
    assert found.confidence == Confidence.LOW and "end_time" in found.evidence["low"], found.evidence
