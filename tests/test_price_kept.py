"""The statements priced as they run now are prepared as the what-if session keeps them (analyze.batch.KEPT), not
prepared and freed once more before the selection prepares them again (issue 28: 4,000 PREPAREs and 4,000
DEALLOCATEs of speed.py's 168,000 statements sent at 5,000 statements), with the advice of preparing them apart."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest

from .test_pool import _advice, _run_shop


class _Forgetful(dict[int, Any]):
    """batch.KEPT as it was: price_many finds no session's statements kept."""

    def get(self, key: int, default: Any = None) -> Any:
        return default


@pytest.mark.needs_hypopg
def test_a_statement_priced_is_prepared_once_per_session(conn: psycopg.Connection[Any],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from pgtune.analyze import batch
    from pgtune.explain_script import Wire

    statements = _run_shop(conn, 3)
    prepared: list[str] = []
    real_wire = Wire.execute

    def wired(self: Wire, query: str, *args: Any, **kwargs: Any) -> Any:
        if query.startswith("PREPARE"):
            prepared.append(re.sub(r"^PREPARE /\* pgtune \*/ \S+", "", query))     # its text, not its name
        return real_wire(self, query, *args, **kwargs)

    monkeypatch.setattr(Wire, "execute", wired)
    kept = _advice(conn, statements, 1)
    once = list(prepared)
    assert len(statements) <= len(once) == len(set(once))       # each statement prepared once, kept after
    prepared.clear()
    monkeypatch.setattr(batch, "KEPT", _Forgetful())
    apart = _advice(conn, statements, 1)
    assert kept[0] and kept == apart
    assert len(prepared) >= len(once) + len(statements)


@pytest.mark.needs_hypopg
def test_statements_no_candidate_touches_give_their_place_to_those_the_selection_asks_about(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """explain_script.Kept.priced: priced first (their table sorts first) and never asked again, the statements of a
    table too small for any index would hold the session's places, and every statement the selection asks about
    would be prepared and freed per plan."""
    from pgtune.analyze import batch
    from pgtune.capture import WorkloadFilter, read_workload, reset_counters
    from pgtune.explain_script import Kept, Wire

    from .test_pool import _shop, synthetic

    _shop(conn, 3)
    conn.execute("CREATE TABLE a0 (id int PRIMARY KEY, v int)")
    conn.execute("INSERT INTO a0 SELECT g, g % 7 FROM generate_series(1, 50) g")
    conn.execute("ANALYZE a0")
    reset_counters(conn)
    small = [f"SELECT id FROM a0 WHERE v = {k} AND id > {k}" for k in range(5)] + \
            [f"SELECT v FROM a0 WHERE id < {k} ORDER BY v LIMIT {k + 1}" for k in range(5)]
    for q in [q for _, _, q in synthetic.statements(3)] + small:
        with conn.transaction(force_rollback=True):
            conn.execute(q)
    conn.execute("SELECT pg_stat_force_next_flush()")
    statements = [s for s in read_workload(conn, WorkloadFilter(top=100)) if "pg_stat" not in s.query]
    assert sum("a0" in s.query for s in statements) >= 2
    monkeypatch.setattr(Kept.__init__, "__defaults__", (12,))
    sent: list[str] = []
    real_wire = Wire.execute

    def wired(self: Wire, query: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(query.split(None, 1)[0])
        return real_wire(self, query, *args, **kwargs)

    monkeypatch.setattr(Wire, "execute", wired)
    kept = _advice(conn, statements, 1)
    now = sent.count("PREPARE")
    sent.clear()
    monkeypatch.setattr(batch, "KEPT", _Forgetful())
    apart = _advice(conn, statements, 1)
    assert kept[0] and kept == apart
    assert now < sent.count("PREPARE")


@pytest.mark.needs_hypopg
def test_a_statement_beyond_the_limit_is_prepared_once_per_pipeline(conn: psycopg.Connection[Any],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """explain_script.Kept.passing: beyond the statements a session keeps, one a pipeline asks about with one
    candidate after another was prepared and freed for each plan (speed.py's 20,000 statements: 48% of the
    statements sent); it is prepared once in the pipeline and freed at its end, with the same advice."""
    from pgtune.analyze import batch
    from pgtune.explain_script import KEPT_PREFIX, Kept, Wire

    statements = _run_shop(conn, 3)
    everything = _advice(conn, statements, 1)
    monkeypatch.setattr(Kept.__init__, "__defaults__", (2,))
    calls: list[list[str]] = []
    left: list[int] = []
    real_wire, real_pipelined = Wire.execute, batch.pipelined

    def wired(self: Wire, query: str, *args: Any, **kwargs: Any) -> Any:
        if query.startswith("PREPARE") and calls:
            calls[-1].append(re.sub(r"^PREPARE /\* pgtune \*/ \S+", "", query))     # its text, not its name
        return real_wire(self, query, *args, **kwargs)

    def pipelined(costing: Any, *args: Any) -> Any:
        calls.append([])
        out = real_pipelined(costing, *args)
        left.append(len(costing.conn.execute("SELECT name FROM pg_prepared_statements WHERE starts_with(name, %s)",
                                             (KEPT_PREFIX,)).fetchall()))
        return out

    monkeypatch.setattr(Wire, "execute", wired)
    monkeypatch.setattr(batch, "pipelined", pipelined)
    few = _advice(conn, statements, 1)
    assert few == everything
    assert max(len(c) for c in calls) >= 3      # pipelines of several statements, beyond the 2 kept
    assert all(len(c) == len(set(c)) for c in calls), [c for c in calls if len(c) != len(set(c))][:1]
    assert left and max(left) <= 2      # those kept for a pipeline only are freed at its end
