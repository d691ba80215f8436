"""What the selection's plans said of the candidates they used answers questions without planning them (issue 28).

Two kinds of question cost a plan each though the plans already asked had answered them: the final plans
(costing.settle) planned each statement with the chosen set again only to learn which indexes it uses, and the
curve asked a set less an index its plan did not use (the same plan). Here both are answered from the selection's
plans, and checked against the planner: settle's rows are those planning them gives, and each answer the curve
derived is the cost planning that very question gives. An answer whose plans used an index whose keys were
sampled since is planned again (its descents are priced otherwise now).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import advisor, answers, costing, curve
from pgtune.analyze.selection import Greedy
from pgtune.capture import read_queries_file

from .helpers import suggest

QUERIES = """SELECT id, note FROM orders WHERE customer = 42;
SELECT id FROM orders WHERE placed > '2024-06-01' AND placed < '2024-06-02';
SELECT id, note FROM orders WHERE customer = 42 AND placed > '2024-06-01';
SELECT id FROM orders WHERE status = 7 ORDER BY placed DESC LIMIT 10;
SELECT count(*) FROM orders WHERE status = 3;
SELECT note FROM orders WHERE customer = 42 AND status = 3 AND placed > '2024-06-01';
"""


def _orders(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer int NOT NULL, placed timestamptz NOT NULL, "
                 "status int NOT NULL, note text)")
    conn.execute("INSERT INTO orders SELECT g, g % 5000, '2024-01-01'::timestamptz + g * interval '1 minute', "
                 "g % 50, 'n' || g FROM generate_series(1, 200000) g")
    conn.execute("ANALYZE orders")


@pytest.mark.needs_hypopg
def test_settle_takes_the_selections_answers_and_they_are_what_planning_gives(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    _orders(conn)
    planned: list[int] = []
    real_many = costing.WhatIf.with_chosen_many

    def counting(self: costing.WhatIf, analyses: Any, *rest: Any) -> Any:
        planned.append(len(analyses))
        return real_many(self, analyses, *rest)

    monkeypatch.setattr(costing.WhatIf, "with_chosen_many", counting)
    checked: list[tuple[object, object]] = []
    real = advisor.settle

    def spy(sessions: Any, chosen: Any, analyses: Any, positions: Any, name: Any, *rest: Any) -> Any:
        positions = list(positions)
        planned.clear()
        used = real(sessions, chosen, analyses, positions, name, *rest)
        taken = planned.copy()
        rows = [(analyses[p].row.cost_after, list(analyses[p].row.indexes)) for p in positions]
        again = real(sessions, chosen, analyses, positions, name)      # every statement planned
        assert [(analyses[p].row.cost_after, list(analyses[p].row.indexes)) for p in positions] == rows
        assert again == used
        checked.append((taken, positions))
        return used

    monkeypatch.setattr(advisor, "settle", spy)
    advice = suggest(conn, read_queries_file(QUERIES))
    assert advice.indexes and checked
    for taken, positions in checked:
        # Planned again: only those whose answer used an index whose keys were sampled since (its cost moved).
        assert positions and sum(taken) < len(positions), (taken, positions)


@pytest.mark.needs_hypopg
def test_a_set_less_an_index_its_plans_did_not_use_is_answered_as_planning_it_would(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    _orders(conn)
    greedies: list[Greedy] = []
    real_points = curve.points

    def points(greedy: Greedy, *rest: Any) -> Any:
        greedies.append(greedy)
        return real_points(greedy, *rest)

    derived: list[tuple[int, ...]] = []
    real_derive = answers.Answers.derive

    def derive(self: answers.Answers, key: tuple[int, ...], parent: tuple[int, ...]) -> bool:
        found = real_derive(self, key, parent)
        if found:
            derived.append(key)
        return found

    checked: list[tuple[int, ...]] = []
    real_settle = advisor.settle

    def settle(*args: Any) -> Any:
        # While the what-if sessions are open: each derived answer against the planner's.
        greedy = greedies[0]
        by_number = {k[3]: k[0] for k in greedy.known.values()}
        for key in derived:
            got = greedy.planner(key[0], [by_number[n] for n in key[1:]])
            assert (got if isinstance(got, float) else got.cost) == pytest.approx(greedy.cache[key], rel=1e-9), key
            checked.append(key)
        return real_settle(*args)

    monkeypatch.setattr(advisor.curve, "points", points)
    monkeypatch.setattr(answers.Answers, "derive", derive)
    monkeypatch.setattr(advisor, "settle", settle)
    advice = suggest(conn, read_queries_file(QUERIES))
    assert advice.indexes and greedies
    assert checked, "no question of the curve was answered without planning"
