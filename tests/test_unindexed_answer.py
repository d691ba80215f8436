"""A statement asked about with no candidate it could use is not planned: its cost is the one it was priced at.

The curve asks each set less each index a statement's plan uses, and a replace drops every index a statement
could use: with one such index, the question is the statement with none, which is its plan as priced before the
what-if costing (the same text and scenarios, and a plan with no hypothetical index is charged nothing). At
benchmarks/speed.py's 5,000 statements that was 5,000 of the selection's 43,500 plans (issue 28). Here the
greedy's planners must get no such question, and the advice must be the one planning them all gives.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from .test_pool import _shop


def _suggest(conn: psycopg.Connection[Any], statements: list[Any], monkeypatch: pytest.MonkeyPatch,
             plan_all: bool) -> tuple[dict[str, Any], int]:
    """The advice (its JSON but for the plan count), and how many questions with no candidate were planned."""
    from pgtune import api
    from pgtune.analyze import Options, answers, asking

    empty = 0
    real_planners = asking.planners

    def planners(*args: Any, **kwargs: Any) -> Any:
        plan, plan_many = real_planners(*args, **kwargs)

        def one(pos: int, config: list[Any]) -> Any:
            nonlocal empty
            empty += not config
            return plan(pos, config)

        def many(questions: list[Any]) -> Any:
            nonlocal empty
            empty += sum(not config for _, config in questions)
            return plan_many(questions)
        return one, many

    with monkeypatch.context() as m:
        m.setattr(asking, "planners", planners)
        if plan_all:      # as before: every question is planned (but for Answers.derive's)
            m.setattr(answers.Answers, "unindexed", lambda self, costs: None)
        advice = api.suggest(conn, api.SuggestOptions(Options(min_rows=1000, jobs=1), constraints=False),
                             statements=statements).indexes
    out = advice.as_dict()
    out.pop("what_if_calls")
    for row in out["statements"]:       # pg_stat_statements' timings: not the advice
        for key in [k for k in row if k.endswith("_ms")]:
            row.pop(key)
    return out, empty


@pytest.mark.needs_hypopg
def test_a_statement_with_no_usable_candidate_is_not_planned_again(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    statements = _shop(conn, 10)     # the speed benchmark's ten shapes a table
    planned, asked_before = _suggest(conn, statements, monkeypatch, plan_all=True)
    assert asked_before > 0      # the curve's sets less a statement's only index (98 at 10 tables)
    advice, asked = _suggest(conn, statements, monkeypatch, plan_all=False)
    assert asked == 0
    assert advice["indexes"] and advice == planned
