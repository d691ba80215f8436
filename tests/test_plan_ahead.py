"""Questions planned ahead (analyze.ahead.plan) on one session: the serial run's advice, fewer
round trips, and next to nothing planned in vain.

With one session the selection asked each stale action's few questions in a round trip of their own, and
pgtune and the server waited for each other (issue 28: about a third of the selection's time at
benchmarks/speed.py's 5,000 statements). The next stale actions' questions now go with the current one's; those
that read the current action's table are asked as if it were taken (it mostly is), where asking them as things
stood was in vain whenever it was: 12% more EXPLAINs at 5,000 statements.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.explain_script import Wire

from .test_pool import _advice, _shop


def _explains(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE 'EXPLAIN%%pgtune%%' "
                       "AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.needs_hypopg
def test_planning_ahead_on_one_session_gives_the_serial_advice_in_fewer_round_trips(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from pgtune.analyze import advisor, pool

    monkeypatch.setattr(pool, "untrack_statements", lambda _conn: None)     # the EXPLAINs are counted there
    statements = _shop(conn, 6)
    syncs = [0]
    real_sync = Wire.sync

    def sync(self: Wire) -> None:
        syncs[0] += self.unsynced
        real_sync(self)
    monkeypatch.setattr(Wire, "sync", sync)
    runs = []
    for ahead in (0, advisor.AHEAD):
        monkeypatch.setattr(advisor, "AHEAD", ahead)
        syncs[0], before = 0, _explains(conn)
        runs.append((_advice(conn, statements, 1), _explains(conn) - before, syncs[0]))
    (serial, serial_explains, serial_trips), (ahead_advice, ahead_explains, ahead_trips) = runs
    assert serial[0] and ahead_advice == serial
    assert ahead_trips < 0.9 * serial_trips
    assert 0 < ahead_explains <= 1.06 * serial_explains, (ahead_explains, serial_explains)   # 1.10 as things stood


def _hub(conn: psycopg.Connection[Any]) -> list[Any]:
    """Every statement joins one fact table (TPC-DS's shape): a step on it makes every action stale again."""
    from pgtune.capture import Statement

    conn.execute("CREATE TABLE fact (id int PRIMARY KEY, d0 int, d1 int, d2 int, d3 int, qty int, price int)")
    conn.execute("INSERT INTO fact SELECT g, g % 500, g % 300, g % 200, g % 100, g % 17, g % 1000 "
                 "FROM generate_series(1, 60000) g")
    out = []
    for d in range(4):
        conn.execute(f"CREATE TABLE dim{d} (id int PRIMARY KEY, a int, b int, c int)")
        conn.execute(f"INSERT INTO dim{d} SELECT g, g % 50, g % 7, g % 13 FROM generate_series(1, 3000) g")
        for col, v in (("a", 3), ("b", 2), ("c", 5)):
            out.append(Statement(f"SELECT sum(f.price) FROM fact f JOIN dim{d} x ON x.id = f.d{d} "
                                 f"WHERE x.{col} = {v} AND f.qty = {d + 1}", calls=1 + d))
    conn.execute("VACUUM ANALYZE")
    return out


@pytest.mark.needs_hypopg
def test_planning_ahead_stops_where_what_it_plans_goes_unasked(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Where every statement reads the table the steps come on, what is planned ahead is made stale before it is
    asked (TPC-DS: 31% more EXPLAINs): the selection stops planning ahead once most of it went unasked."""
    from pgtune.analyze import advisor, pool
    from pgtune.analyze import ahead as planning_ahead

    monkeypatch.setattr(pool, "untrack_statements", lambda _conn: None)     # the EXPLAINs are counted there
    statements = _hub(conn)
    monkeypatch.setattr(planning_ahead, "GUESSES_JUDGED", 8)
    runs = []
    for ahead in (0, advisor.AHEAD):
        monkeypatch.setattr(advisor, "AHEAD", ahead)
        before = _explains(conn)
        runs.append((_advice(conn, statements, 1), _explains(conn) - before))
    (serial, serial_explains), (ahead_advice, ahead_explains) = runs
    assert serial[0] and ahead_advice == serial
    assert 0 < ahead_explains <= 1.1 * serial_explains, (ahead_explains, serial_explains)   # 2.1x without stopping
