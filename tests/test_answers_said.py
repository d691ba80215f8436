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
    fewer: list[int] = []       # settle's plans with the set less one index a plan uses (costing._less_one)
    real_each = costing.WhatIf.with_each

    def each(self: costing.WhatIf, questions: Any, *rest: Any) -> Any:
        fewer.append(len(questions))
        return real_each(self, questions, *rest)

    monkeypatch.setattr(costing.WhatIf, "with_each", each)
    checked: list[tuple[object, object]] = []
    real = advisor.settle

    def spy(sessions: Any, chosen: Any, analyses: Any, positions: Any, name: Any, *rest: Any) -> Any:
        positions = list(positions)
        planned.clear()
        fewer.clear()
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

    real_wider = answers.Answers.wider

    def wider(self: answers.Answers, key: tuple[int, ...]) -> bool:
        found = real_wider(self, key)
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
        for key in [k for k in greedy.cache if len(k) == 1]:     # no candidate: the cost it was priced at, unplanned
            got = greedy.planner(key[0], [])
            assert (got if isinstance(got, float) else got.cost) == pytest.approx(greedy.cache[key], rel=1e-9), key
            checked.append(key)
        return real_settle(*args)

    monkeypatch.setattr(advisor.curve, "points", points)
    monkeypatch.setattr(answers.Answers, "derive", derive)
    monkeypatch.setattr(answers.Answers, "wider", wider)
    monkeypatch.setattr(advisor, "settle", settle)
    advice = suggest(conn, read_queries_file(QUERIES))
    assert advice.indexes and greedies
    assert checked, "no question of the curve was answered without planning"


@pytest.mark.needs_hypopg
def test_settle_takes_its_plans_less_one_used_index_from_the_selections_answers(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """speed.py's shapes: where a final plan's descents were charged, settle plans the set less each index it uses
    (costing._less_one); the curve asked those questions: their answers are taken, the rows are the same."""
    from .test_pool import _shop

    statements = _shop(conn, 6)
    asked = {"each": 0, "chosen": 0, "charged": 0}
    real_each, real_many, real_charged = costing.WhatIf.with_each, costing.WhatIf.with_chosen_many, costing._charged

    def each(self: costing.WhatIf, questions: Any, *rest: Any) -> Any:
        asked["each"] += len(questions)
        return real_each(self, questions, *rest)

    def many(self: costing.WhatIf, analyses: Any, *rest: Any) -> Any:
        asked["chosen"] += len(analyses)
        return real_many(self, analyses, *rest)

    def charged(priced: Any) -> bool:
        found = real_charged(priced)
        asked["charged"] += found
        return found

    checked: list[dict[str, int]] = []
    real = advisor.settle

    def spy(sessions: Any, chosen: Any, analyses: Any, positions: Any, name: Any, *rest: Any) -> Any:
        positions = list(positions)
        asked.update(each=0, chosen=0, charged=0)
        used = real(sessions, chosen, analyses, positions, name, *rest)
        checked.append(dict(asked))
        rows = [(analyses[p].row.cost_after, list(analyses[p].row.indexes)) for p in positions]
        assert real(sessions, chosen, analyses, positions, name) == used      # every question planned
        assert [(analyses[p].row.cost_after, list(analyses[p].row.indexes)) for p in positions] == rows
        return used

    monkeypatch.setattr(costing.WhatIf, "with_each", each)
    monkeypatch.setattr(costing.WhatIf, "with_chosen_many", many)
    monkeypatch.setattr(costing, "_charged", charged)
    monkeypatch.setattr(advisor, "settle", spy)
    advice = suggest(conn, statements)
    assert advice.indexes and checked
    assert any(c["charged"] for c in checked), checked       # some final plan had its descents charged
    for c in checked:       # with_chosen_many asks through with_each: any more were the less-one questions
        assert c["each"] - c["chosen"] == 0, checked
