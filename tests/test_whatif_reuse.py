"""What-if costing works each question out once (issue 28: speed), with the advice of working it out every time.

A statement's EXPLAIN Round (its texts, its quoted values) is made once per
session and sent again, through explain_script.Wire (no psycopg cursor per
statement); the curve takes a statement's answers, and prune an index's loss,
from the last set when the indexes they depend on are the same.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from .helpers import benchmark
from .test_pool import _advice as pool_advice

synthetic = benchmark("synthetic")


def _workload(conn: psycopg.Connection[Any], tables: int) -> list[Any]:
    """The speed benchmark's statements over ``tables`` tables, as pg_stat_statements holds them ($n, values)."""
    from pgtune.capture import WorkloadFilter, read_workload, reset_counters

    synthetic.build(conn, tables, rows=3000)
    for _ in range(100):      # the writes are charged to new indexes (upkeep): both runs must see all of them
        row = conn.execute("SELECT coalesce(sum(n_tup_ins), 0) FROM pg_stat_user_tables").fetchone()
        if row is not None and row[0] >= 3000 * tables:
            break
        time.sleep(0.1)
    reset_counters(conn)
    for _, _, q in synthetic.statements(tables):
        with conn.transaction(force_rollback=True):
            conn.execute(q)
    conn.execute("SELECT pg_stat_force_next_flush()")      # their dead rows price index-only scans: published now
    return [s for s in read_workload(conn, WorkloadFilter(top=1000)) if "pg_stat" not in s.query]


def _advice(conn: psycopg.Connection[Any], statements: list[Any]) -> Any:
    """test_pool's comparable view of the advice, in one session."""
    return pool_advice(conn, statements, 1)


@pytest.mark.needs_hypopg
def test_a_statements_rounds_are_made_once_and_sent_without_cursors(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The advice is the one of a Round made afresh for every plan, with far fewer Rounds made, and the
    pipelines' EXPLAINs sent through explain_script.Wire, not a psycopg cursor each."""
    from psycopg import Cursor

    from pgtune import explain, explain_script
    from pgtune.analyze import costing

    statements = _workload(conn, 4)
    made = {"rounds": 0, "cursors": 0, "explains": 0}
    real_init, real_cursor, real_execute = explain.Round.__init__, Cursor.__init__, Cursor.execute
    real_wire = explain_script.Wire.execute

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        made["rounds"] += 1
        real_init(self, *args, **kwargs)

    def cursor(self: Any, *args: Any, **kwargs: Any) -> None:
        made["cursors"] += 1
        real_cursor(self, *args, **kwargs)

    def execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        made["explains"] += str(query).startswith("EXPLAIN")
        return real_execute(self, query, *args, **kwargs)

    def wired(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        made["explains"] += query.startswith("EXPLAIN")
        return real_wire(self, query, *args, **kwargs)

    monkeypatch.setattr(explain.Round, "__init__", init)
    monkeypatch.setattr(Cursor, "__init__", cursor)
    monkeypatch.setattr(Cursor, "execute", execute)
    monkeypatch.setattr(explain_script.Wire, "execute", wired)
    reused = _advice(conn, statements)
    counts = dict(made)
    made.update(rounds=0, cursors=0, explains=0)

    def fresh(self: costing.Costing, a: Any, texts: Any) -> list[explain.Round]:
        found = a.scenarios or [costing.Scenario({}, costing.ValueSource.GENERIC)]
        return [explain.Round(self.conn, text or a.query, [s.values for s in found], context=a.row.context)
                for text in texts]

    monkeypatch.setattr(costing.Costing, "rounds", fresh)
    afresh = _advice(conn, statements)
    assert reused[0] and reused == afresh
    assert counts["explains"] == made["explains"]
    assert counts["rounds"] * 3 < made["rounds"]
    # A cursor per EXPLAIN and per hypopg call before the Wire (1,040 for 492 EXPLAINs); now only outside the
    # pipelines (348).
    assert counts["cursors"] < counts["explains"]


@pytest.mark.needs_hypopg
def test_the_curve_takes_unchanged_answers_from_the_last_set(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """curve.Memo, curve.Near and prune's losses: the same curve, sets and plans as working every point out anew,
    with far fewer questions worked out."""
    from pgtune.analyze import curve, selection

    statements = _workload(conn, 6)
    asked = [0]
    real_question = selection.Greedy._question

    def question(self: Any, pos: int, cands: Any) -> Any:
        asked[0] += 1
        return real_question(self, pos, cands)

    monkeypatch.setattr(selection.Greedy, "_question", question)
    seen: list[Any] = []
    real_points = curve.points

    def points(greedy: Any, result: Any, basis: Any) -> Any:
        seen.append((greedy, result))
        return real_points(greedy, result, basis)

    monkeypatch.setattr(curve, "points", points)
    remembered = _advice(conn, statements)
    with_memo, asked[0] = asked[0], 0
    # A set asked again right after itself asks nothing new (all of it was answered: nothing is planned).
    greedy, result = seen[0]
    config = selection.Selection.configuration(result.steps)
    curve._ask_without_each(greedy, [config])
    once, asked[0] = asked[0], 0
    curve._ask_without_each(greedy, [config, list(config)])
    assert once > 10 and asked[0] == once
    asked[0] = 0
    monkeypatch.setattr(curve.Memo, "same", staticmethod(lambda found, close: False))

    def anew(self: Any, kept: Any) -> Any:
        self.moved = list(range(len(self.greedy.workload)))     # every statement's list made anew (5824575)
        return curve.near(self.greedy, kept)

    monkeypatch.setattr(curve.Near, "__call__", anew)
    monkeypatch.setattr(selection.Greedy, "_loss_sign", lambda self, cand, on_table: (object(),))
    anew = _advice(conn, statements)
    assert len(remembered[3]) > 5 and remembered == anew
    assert with_memo * 1.5 < asked[0]


NAMES = ["c1", "Sel", "order", "user", "select", "1st", "a b", 'say "hi"', "über", "ÉTÉ", "x$y", "_x", "desc",
         "a-b", "t" * 63, "collation", "left", "id"]


def test_a_plain_candidates_hypothetical_ddl_is_the_printers_text() -> None:
    """whatif.hypothetical_ddl writes a plain-column index itself: the very text pglast prints (ddl.create_index),
    for names that need quotes (keywords, capitals, spaces, quotes, non-ASCII) and those that do not."""
    from pgtune import ddl
    from pgtune.analyze.candidates import Candidate
    from pgtune.analyze.whatif import hypothetical_ddl
    from pgtune.ddl import IndexKey

    checked = 0
    for i, schema in enumerate(["public", "My Schema", "order"]):
        for j, table in enumerate(NAMES):
            for width in (1, 2, 3):
                keys = tuple(IndexKey(NAMES[(j + k * 5 + i) % len(NAMES)], descending=(j + k) % 3 == 0)
                             for k in range(width))
                for include in ((), (NAMES[(j + 7) % len(NAMES)],), ("id", NAMES[(j + 3) % len(NAMES)])):
                    cand = Candidate((schema, table), keys, 1, include=include)
                    assert hypothetical_ddl(schema, table, cand) == ddl.create_index(
                        schema, table, "pgtune_hypo", keys, concurrently=False, include=include)
                    checked += 1
    assert checked == 3 * len(NAMES) * 3 * 3


@pytest.mark.needs_hypopg
def test_hypopg_makes_the_index_of_a_plain_candidates_ddl(conn: psycopg.Connection[Any]) -> None:
    """The text hypothetical_ddl writes names the columns HypoPG indexes, quoted names and DESC included."""
    from pgtune.analyze.candidates import Candidate
    from pgtune.analyze.whatif import hypothetical_ddl
    from pgtune.ddl import IndexKey

    conn.execute('CREATE SCHEMA "My Schema"; CREATE TABLE "My Schema"."order" '
                 '("Sel" int, "a b" int, "über" int, id int)')
    cand = Candidate(("My Schema", "order"), (IndexKey("Sel"), IndexKey("a b", descending=True)), 1,
                     include=("über",))
    text = hypothetical_ddl("My Schema", "order", cand)
    row = conn.execute("SELECT indexrelid FROM hypopg_create_index(%s)", (text,)).fetchone()
    assert row is not None
    defn = conn.execute("SELECT hypopg_get_indexdef(%s)", (row[0],)).fetchone()
    assert defn is not None and "(Sel, a b DESC) INCLUDE (über)" in defn[0]     # HypoPG's own (unquoted) form
    conn.execute("SELECT hypopg_reset()")


@pytest.mark.needs_hypopg
def test_a_candidates_order_key_is_worked_out_once(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Greedy._order: questions sort their candidates by a key kept per candidate, not worked out per question."""
    from pgtune.analyze import selection

    statements = _workload(conn, 3)
    calls = {"order": 0, "question": 0}
    real_order, real_question = selection.order, selection.Greedy._question

    def order(key: Any) -> Any:
        calls["order"] += 1
        return real_order(key)

    def question(self: Any, pos: int, cands: Any) -> Any:
        calls["question"] += 1
        return real_question(self, pos, cands)

    monkeypatch.setattr(selection, "order", order)
    monkeypatch.setattr(selection.Greedy, "_question", question)
    assert _advice(conn, statements)[0]
    assert calls["question"] > 100 and calls["order"] * 2 < calls["question"]
