"""A start/end CHECK stays low (never written) when the application's values reach the table another way (r11 F1).

The column-order family proposes ``CHECK (end_time >= start_time)`` at high
confidence only when no workload write sends either column's value
(capture.writes.supplied). The application's values also arrive through a
partition's name, a function (pg_stat_statements, tracking top-level statements,
lists no nested INSERT), INSERT … SELECT from a staging table the client filled,
or the bulk-insert idiom ``INSERT … SELECT * FROM unnest($1, $2, …)``: each was
read as the server's, and a client that sends end before start would be refused.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest

from pgtune.constraints import Confidence, propose

from .helpers import steady_state

PART = """
CREATE TABLE observations (id text NOT NULL, project_id text NOT NULL,
  start_time timestamp(3) NOT NULL, end_time timestamp(3)) PARTITION BY RANGE (start_time);
CREATE TABLE observations_2026 PARTITION OF observations FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO observations SELECT 'o' || g, 'proj_' || (g % 5), timestamp '2026-01-01' + g * interval '1 s',
  CASE WHEN g % 10 > 0 THEN timestamp '2026-01-01' + g * interval '1 s' + (g % 7) * interval '1 ms' END
FROM generate_series(1, 5000) g;
ANALYZE observations;
"""

def _order(conn: psycopg.Connection[Any]) -> Any:
    (found,) = [c for c in propose(conn).constraints if c.kind == "column-order"]
    return found



def test_insert_into_partition(conn: psycopg.Connection[Any]) -> None:
    conn.execute(PART)
    steady_state(conn)
    t0 = datetime(2026, 2, 1)
    for i in range(20):
        conn.execute("INSERT INTO observations_2026 (id, project_id, start_time, end_time) VALUES (%s, %s, %s, %s)",
                     (f"n{i}", "p", t0, t0 + timedelta(milliseconds=5)))
    f = _order(conn)
    assert f.confidence == Confidence.LOW



PLAIN = """
CREATE TABLE observations (id text PRIMARY KEY, project_id text NOT NULL,
  start_time timestamp(3) NOT NULL, end_time timestamp(3));
INSERT INTO observations SELECT 'o' || g, 'proj_' || (g % 5), timestamp '2026-01-01' + g * interval '1 s',
  CASE WHEN g % 10 > 0 THEN timestamp '2026-01-01' + g * interval '1 s' + (g % 7) * interval '1 ms' END
FROM generate_series(1, 5000) g;
ANALYZE observations;
CREATE TABLE staging (id text, s timestamp(3), e timestamp(3));
CREATE FUNCTION ingest(i text, s timestamp, e timestamp) RETURNS void LANGUAGE sql AS
 $$ INSERT INTO observations (id, project_id, start_time, end_time) VALUES (i, 'p', s, e) $$;
"""

T0 = datetime(2026, 2, 1)
LATER = T0 + timedelta(milliseconds=5)


def _through_a_function(conn: psycopg.Connection[Any], i: int) -> None:
    conn.execute("SELECT ingest(%s, %s, %s)", (f"n{i}", T0, LATER))


def _from_staging(conn: psycopg.Connection[Any], i: int) -> None:
    conn.execute("INSERT INTO staging VALUES (%s, %s, %s)", (f"n{i}", T0, LATER))
    conn.execute("INSERT INTO observations (id, project_id, start_time, end_time) "
                 "SELECT id, 'p', s, e FROM staging WHERE id = %s", (f"n{i}",))


def _from_unnest_of_parameters(conn: psycopg.Connection[Any], i: int) -> None:
    conn.execute("INSERT INTO observations (id, project_id, start_time, end_time) "
                 "SELECT * FROM unnest(%s::text[], %s::text[], %s::timestamp[], %s::timestamp[])",
                 ([f"u{i}"], ["p"], [T0], [LATER]))


@pytest.mark.parametrize("write", [_through_a_function, _from_staging, _from_unnest_of_parameters])
def test_the_application_s_values_arriving_another_way(conn: psycopg.Connection[Any],
                                                      write: Callable[[psycopg.Connection[Any], int], None]) -> None:
    conn.execute(PLAIN)
    steady_state(conn)
    for i in range(20):
        write(conn, i)
    f = _order(conn)
    assert f.confidence == Confidence.LOW


def test_the_server_s_own_values_keep_it_high(conn: psycopg.Connection[Any]) -> None:
    """The clock, and a copy of the table's own rows by a generate_series: nothing of the client's."""
    conn.execute(PLAIN.split("CREATE TABLE staging")[0])
    steady_state(conn)
    for i in range(20):
        conn.execute("UPDATE observations SET end_time = now() WHERE id = %s", (f"o{i + 1}",))
        conn.execute("INSERT INTO observations (id, project_id, start_time, end_time) "
                     "SELECT 'c' || g || %s, o.project_id, o.start_time, o.end_time "
                     "FROM observations AS o, generate_series(1, 1) AS g WHERE o.id = 'o1'", (str(i),))
    f = _order(conn)
    assert f.confidence == Confidence.HIGH, f.evidence
