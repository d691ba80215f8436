"""Size-aware selection: nested budgets, widening, forecasts, no regression, measured predictions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune import api
from pgtune.analyze import Candidate, Options, key_sample, sizing
from pgtune.analyze.selection import Greedy, Selection, StepKind, Workload
from pgtune.capture import read_catalog
from pgtune.cli import cli
from pgtune.ddl import IndexKey

from .helpers import all_visible, emitted, run, steady_state, suggest

EVENTS = """
CREATE TABLE event (
    id bigint PRIMARY KEY, "accountId" int NOT NULL, kind int NOT NULL, day date NOT NULL,
    amount numeric NOT NULL, note text NOT NULL
);
INSERT INTO event SELECT g, g % 40, g % 7, date '2026-01-01' + (g * 7919) % 300, g % 1000, repeat('x', 40)
FROM generate_series(1, 200000) AS g;
ANALYZE event;
"""


def events(conn: psycopg.Connection[Any]) -> None:
    """200,000 events of 40 accounts (5,000 each): per-account history needs its ORDER BY in the index."""
    conn.execute(EVENTS)
    steady_state(conn)


def workload(conn: psycopg.Connection[Any]) -> None:
    run(conn, 'SELECT id, day FROM event WHERE "accountId" = %s ORDER BY day DESC LIMIT 20',
        [(i,) for i in range(10)], times=20)
    run(conn, 'SELECT count(*) FROM event WHERE "accountId" = %s AND kind = %s', [(i, i % 7) for i in range(10)])
    run(conn, "SELECT sum(amount) FROM event WHERE day BETWEEN %s AND %s",
        [("2026-03-01", "2026-03-03")], times=5)


@pytest.mark.needs_hypopg
def test_budgets_take_nested_prefixes_of_one_curve(conn: psycopg.Connection[Any]) -> None:
    events(conn)
    workload(conn)
    full = suggest(conn)
    steps = [(p.action, p.index) for p in full.curve[1:]]
    assert len(steps) >= 2
    previous: list[tuple[str, str | None]] = []
    for point in full.curve[1:]:
        budget = (point.forecast_bytes + 1) * (1 + sizing.FORECAST_MARGIN) / 1048576   # less its margin: the point
        small = suggest(conn, options=Options(max_index_mb=budget))
        chosen = [(p.action, p.index) for p in small.curve[1:] if p.chosen]
        # The same curve, cut at the budget (a step whose set a later one holds in no more bytes is no point:
        # a widening forecast no larger than the index it widens, as (accountId, day DESC, kind) is here).
        assert chosen == [s for q, s in zip(full.curve[1:], steps, strict=True) if q.step <= point.step]
        assert chosen[:len(previous)] == previous    # and every smaller budget's steps come first
        assert sum(ix.forecast_bytes or 0 for ix in small.indexes) <= point.forecast_bytes
        previous = chosen
    # Costs fall along the curve, sizes grow (a widening may replace a narrower index).
    costs = [p.cost for p in full.curve]
    assert costs == sorted(costs, reverse=True)


@pytest.mark.needs_hypopg
def test_widening_instead_of_a_second_index(conn: psycopg.Connection[Any]) -> None:
    events(conn)
    run(conn, 'SELECT count(*) FROM event WHERE "accountId" = %s', [(i,) for i in range(10)], times=40)
    run(conn, 'SELECT id FROM event WHERE "accountId" = %s AND day BETWEEN %s AND %s',
        [(i, "2026-02-01", "2026-02-03") for i in range(10)], times=4)
    advice = suggest(conn)
    on_account = [ix for ix in advice.indexes if ix.columns[0] == "accountId"]
    # (accountId) first (it serves both), then widened by the range column: not a second index beside it.
    assert [ix.columns for ix in on_account] == [["accountId", "day"]]
    assert len(on_account[0].queries) == 2
    # The widening replaced it; the add's point is left off the curve when the widened set is no bigger
    # (a budget that fits the add fits the widening: analyze.curve).
    assert [(p.action, p.replaces) for p in advice.curve[1:]][-1] == ("widen", "event_accountId_idx")
    assert advice.curve[-1].indexes == ["event_accountId_day_idx"]


@pytest.mark.parametrize("keys, include", [
    (("day",), ()),                 # 300 dates: deduplicated posting lists
    (("id",), ()),                  # unique: one tuple per row
    (("accountId", "kind"), ()),    # correlated pair: 280 combinations, sampled
    (("kind", "day"), ()),          # 2,100 combinations, sampled
    (("accountId",), ("amount",)),  # INCLUDE: no deduplication
    (("amount",), ()),              # numeric: no deduplication
])
def test_size_forecast_within_1_5x_of_the_built_index(conn: psycopg.Connection[Any], keys: tuple[str, ...],
                                                        include: tuple[str, ...]) -> None:
    events(conn)
    catalog = read_catalog(conn)
    index_keys = tuple(IndexKey(k) for k in keys)
    sample = key_sample.sample_keys(conn, ("public", "event"), index_keys, 200_000) if len(keys) > 1 else None
    distinct = sample.distinct if sample is not None else None
    forecast = sizing.forecast(catalog, ("public", "event"), index_keys, include=include, distinct=distinct)
    cols = ", ".join(f'"{k}"' for k in keys)
    conn.execute(f"CREATE INDEX sized ON event ({cols})" + (f" INCLUDE ({include[0]})" if include else ""))
    real = conn.execute("SELECT pg_relation_size('sized')").fetchone()[0]  # type: ignore[index]
    assert 1 / 1.5 <= forecast / real <= 1.5, (forecast, real)


def test_a_statement_whose_what_if_cost_would_rise_keeps_its_cost_before() -> None:
    """A step that helps one statement and looks dearer for another counts the other at its cost before.

    The plan the other had stays open to the server once the index is built: a
    what-if plan looks dearer when calibration charges its many probes of the
    new index (tests/test_calibration.py has it on a real server).
    """
    table = ("public", "t")
    a = Candidate(table, (IndexKey("a"),), 1)
    b = Candidate(table, (IndexKey("b"),), 1)
    # Statement 0 gains from either index, more from (a); statement 1 looks dearer with (a), untouched by (b).
    costs = {(0, ()): 100.0, (0, ("a",)): 10.0, (0, ("b",)): 40.0, (0, ("a", "b")): 10.0,
             (1, ()): 50.0, (1, ("a",)): 55.0, (1, ("b",)): 50.0, (1, ("a", "b")): 55.0}

    def planner(pos: int, config: list[Candidate]) -> float:
        return costs[(pos, tuple(sorted(c.keys[0].column for c in config)))]

    work = [Workload(calls=1, base_cost=100.0, tables=frozenset({table}),
                     keyable={table: frozenset({"a", "b"})}, touched={table: frozenset({"a", "b"})}),
            Workload(calls=1, base_cost=50.0, tables=frozenset({table}),
                     keyable={table: frozenset({"a", "b"})}, touched={table: frozenset({"a", "b"})})]
    result = Greedy(work, planner, forecast=lambda c: 8192, hypopg_size=lambda c: 8192, upkeep=lambda c: 0.0,
                    widen_columns={}).run([a, b])
    assert [s.index.keys[0].column for s in result.steps] == ["a"]
    assert result.steps[0].cost == 10.0 + 50.0     # statement 1 at its cost before, not 55


def test_a_widening_that_makes_a_statement_dearer_than_with_no_index_is_not_taken() -> None:
    """A widening drops the narrower index, so the plan before may be gone: its costs stand as planned."""
    table = ("public", "t")
    a = Candidate(table, (IndexKey("a"),), 1)
    # Statement 0 gains from (a) and more from (a, b); statement 1 gains from (a) but gets dearer
    # than with no index once (a) is widened.
    costs = {(0, ()): 100.0, (0, ("a",)): 10.0, (0, ("a,b",)): 5.0,
             (1, ()): 50.0, (1, ("a",)): 40.0, (1, ("a,b",)): 60.0}

    def planner(pos: int, config: list[Candidate]) -> float:
        return costs[(pos, tuple(sorted(",".join(k.column for k in c.keys) for c in config)))]

    work = [Workload(calls=10, base_cost=100.0, tables=frozenset({table}),
                     keyable={table: frozenset({"a", "b"})}, touched={table: frozenset({"a", "b"})}),
            Workload(calls=1, base_cost=50.0, tables=frozenset({table}),
                     keyable={table: frozenset({"a", "b"})}, touched={table: frozenset({"a", "b"})})]
    result = Greedy(work, planner, forecast=lambda c: 8192, hypopg_size=lambda c: 8192, upkeep=lambda c: 0.0,
                    widen_columns={table: [IndexKey("a"), IndexKey("b")]}).run([a])
    assert [(s.kind, [k.column for k in s.index.keys]) for s in result.steps] == [(StepKind.ADD, ["a"])]


def test_a_full_index_does_not_replace_a_partial_one_that_still_pays() -> None:
    """(a) WHERE s = 'x' serves statement 0 best; (a) serves statement 1. Both are kept, each for its own."""
    table = ("public", "t")
    partial = Candidate(table, (IndexKey("a"),), 1, where="s = 'x'", where_fraction=0.02)
    full = Candidate(table, (IndexKey("a"),), 1)

    def planner(pos: int, config: list[Candidate]) -> float:
        has_partial, has_full = partial in config, full in config
        if pos == 0:
            return 5.0 if has_partial else 30.0 if has_full else 100.0
        return 20.0 if has_full else 100.0

    work = [Workload(calls=1, base_cost=100.0, tables=frozenset({table}),
                     keyable={table: frozenset({"a"})}, touched={table: frozenset({"a", "s"})})
            for _ in range(2)]
    sizes = {None: 100 * 8192, "s = 'x'": 2 * 8192}
    result = Greedy(work, planner, forecast=lambda c: sizes[c.where], hypopg_size=lambda c: sizes[c.where],
                    upkeep=lambda c: 0.0, widen_columns={}).run([partial, full])
    assert [(s.index.where, s.replaces) for s in result.steps] == [("s = 'x'", None), (None, None)]
    assert result.steps[-1].cost == 25.0


def test_an_index_the_rest_of_the_set_makes_useless_leaves_it() -> None:
    """The demo's case: ("createdAt") is taken first for the newest feed; (status, "createdAt" DESC, id), taken
    for the queue, serves the feed as well. The final set keeps only the second."""
    table = ("public", "videos")
    created = Candidate(table, (IndexKey("createdAt"),), 1)
    wide = Candidate(table, (IndexKey("status"), IndexKey("createdAt", True), IndexKey("id")), 1)
    costs = {(0, ()): 4000.0, (0, ("createdAt",)): 2.0, (0, ("status",)): 2.1, (0, ("createdAt", "status")): 2.0,
             (1, ()): 2000.0, (1, ("createdAt",)): 1500.0, (1, ("status",)): 1.0, (1, ("createdAt", "status")): 1.0}

    def planner(pos: int, config: list[Candidate]) -> float:
        return costs[(pos, tuple(sorted(c.keys[0].column for c in config)))]

    work = [Workload(calls=1, base_cost=base, tables=frozenset({table}),
                     keyable={table: frozenset({"status", "createdAt", "id"})}, touched={table: frozenset({"id"})})
            for base in (4000.0, 2000.0)]
    greedy = Greedy(work, planner, forecast=lambda c: 8192 * len(c.keys), hypopg_size=lambda c: 8192,
                    upkeep=lambda c: 0.0, widen_columns={})
    chosen = Selection.configuration(greedy.run([created, wide]).steps)
    assert [c.keys[0].column for c in chosen] == ["createdAt", "status"]
    assert [c.keys[0].column for c in greedy.prune(chosen)] == ["status"]
    # An index that still carries a statement stays: without (status, …) the queue costs 1,500 again.
    assert [c.keys[0].column for c in greedy.prune([wide])] == ["status"]


@pytest.mark.needs_hypopg
def test_parameterized_targets_are_measured_before_and_after(conn: psycopg.Connection[Any], db: str,
                                                             tmp_path: Path) -> None:
    events(conn)
    all_visible(conn, "event")
    workload(conn)
    result = emitted(conn, tmp_path / "m", measure=True)
    assert result.migration is not None
    targets = result.migration.targets
    assert targets and all("$1" in t.query for t in targets)
    measured = [t for t in targets if t.baseline_ms is not None]
    assert len(measured) >= 0.8 * len(targets)
    api.apply(conn, tmp_path / "m")
    out = CliRunner().invoke(cli, ["verify", str(tmp_path / "m"), "--dsn", db, "--analyze"])
    assert out.exit_code == 0, out.output
    assert "agree within 2x" in out.output
    header = next(line for line in out.output.splitlines() if "cost cut predicted" in line)
    assert all(h in header for h in ("cost cut now", "time cut predicted", "time cut measured")), header
    checked = api.verify(conn, tmp_path / "m", measure=True)
    assert all(t.ms is not None for t in checked.targets if t.baseline_ms is not None)


@pytest.mark.needs_hypopg
def test_verify_flags_a_measured_slowdown(conn: psycopg.Connection[Any], db: str, tmp_path: Path) -> None:
    events(conn)
    all_visible(conn, "event")
    run(conn, "SELECT sum(amount) FROM event WHERE day BETWEEN '2026-03-01' AND '2026-03-20'", times=5)
    emitted(conn, tmp_path / "m", measure=True)
    api.apply(conn, tmp_path / "m")
    assert api.verify(conn, tmp_path / "m", measure=True).ok
    # Ten times the rows in that window: the statement now reads far more than at emit.
    conn.execute("INSERT INTO event SELECT 1000000 + g, g % 40, g % 7, date '2026-03-05', g % 1000, 'y' "
                 "FROM generate_series(1, 300000) AS g")
    conn.execute("ANALYZE event")
    result = api.verify(conn, tmp_path / "m", measure=True)
    assert not result.ok
    assert any("measured slowdown" in t.problem for t in result.targets)
    out = CliRunner().invoke(cli, ["verify", str(tmp_path / "m"), "--dsn", db, "--analyze"])
    assert out.exit_code == 1 and "measured slowdown" in out.output
    # A generous time tolerance lets the same measurements pass (the cost check still sees the new rows).
    generous = api.verify(conn, tmp_path / "m", measure=True, time_tolerance=1000.0)
    assert not any("measured slowdown" in t.problem for t in generous.targets)


@pytest.mark.needs_hypopg
def test_widening_by_an_aggregated_column_for_an_index_only_scan(conn: psycopg.Connection[Any]) -> None:
    """Extend widens by any column the served statements read, not only the ones they filter on.

    TPC-H Q18's shape: the orders whose lines sum past a threshold. ``(orderId)``
    pays for the join probes; widened by ``qty``, the aggregate reads the index
    alone. ``qty`` is never filtered, joined or sorted on.
    """
    conn.execute("""
        CREATE TABLE line ("orderId" int NOT NULL, qty int NOT NULL, note text NOT NULL);
        INSERT INTO line SELECT g / 4, g % 50, repeat('x', 60) FROM generate_series(1, 400000) AS g;
        CREATE TABLE purchase (id int PRIMARY KEY, total int NOT NULL);
        INSERT INTO purchase SELECT g, g % 1000 FROM generate_series(0, 100000) AS g;
    """)
    all_visible(conn, "line")
    all_visible(conn, "purchase")
    steady_state(conn)
    run(conn, 'SELECT p.id, sum(l.qty) FROM purchase p JOIN line l ON l."orderId" = p.id '
              'WHERE p.id IN (SELECT "orderId" FROM line GROUP BY "orderId" HAVING sum(qty) > %s) '
              'GROUP BY p.id', [(190,)], times=5)
    advice = suggest(conn)
    on_line = [ix for ix in advice.indexes if ix.table == "line"]
    assert [(ix.columns, ix.include) for ix in on_line] == [(["orderId", "qty"], [])], advice.curve
    assert ("widen", "line_orderId_idx") in [(p.action, p.replaces) for p in advice.curve[1:]]


@pytest.mark.needs_hypopg
def test_what_if_batch_shows_the_planner_exactly_the_set_and_recovers_from_a_refused_index(
        conn: psycopg.Connection[Any]) -> None:
    """``ensure`` sends its drops and creates in one round trip; a refused index must not leave strays."""
    from pgtune.analyze import whatif

    conn.execute("CREATE TABLE t (a int, b int, c int)")
    table = ("public", "t")
    a, b, c = (Candidate(table, (IndexKey(col),), 1) for col in "abc")
    refused = Candidate(table, (IndexKey("nope"),), 1)     # no such column: the server refuses it

    def seen() -> set[str]:
        rows = conn.execute("SELECT indexname FROM hypopg()").fetchall()
        return {r[0].split("btree_t_")[-1] for r in rows}

    with whatif.session(conn) as hypo:
        hypo.ensure([a, b], [table])
        assert seen() == {"a", "b"}
        hypo.ensure([b, c], [table])           # one drop and one create, batched
        assert seen() == {"b", "c"}
        with pytest.raises(psycopg.Error):
            hypo.ensure([a, refused, c], [table])
        assert seen() == set() and not hypo.present    # reset, not half-known
        hypo.ensure([a, c], [table])
        assert seen() == {"a", "c"}


@pytest.mark.needs_hypopg
def test_a_question_is_put_in_the_planners_order_only_when_it_is_planned(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # Most of selection's questions are answered from its cache: ordering each one's candidates for the planner
    # anyway was work for nothing (issue 28's CPU). The answers and the advice are the same.
    events(conn)
    workload(conn)
    before = suggest(conn)
    made: list[int] = []
    asked: list[int] = []
    real, real_cost = Greedy._asked, Greedy.cost_with

    def counted(pos: int, usable: Any) -> Any:
        made.append(pos)
        return real(pos, usable)

    def cost_with(self: Greedy, pos: int, cands: Any, keyed: Any = None, parent: Any = None) -> float:
        asked.append(pos)
        return real_cost(self, pos, cands, keyed, parent)
    monkeypatch.setattr(Greedy, "_asked", staticmethod(counted))
    monkeypatch.setattr(Greedy, "cost_with", cost_with)
    after = suggest(conn)
    assert [ix.ddl for ix in after.indexes] == [ix.ddl for ix in before.indexes]
    assert [p.cost for p in after.curve] == [p.cost for p in before.curve]
    assert 0 < len(made) < len(asked) / 2, (len(made), len(asked))
