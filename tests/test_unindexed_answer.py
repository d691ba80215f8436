"""Questions whose answer is known without planning them are not planned (issue 28: speed.py's 5,000 statements).

A statement asked about with no candidate it could use: the curve asks each set less each index a statement's plan
uses, and a replace drops every index a statement could use; with one such index, the question is the statement
with none, which is its plan as priced before the what-if costing (the same text and scenarios, and a plan with no
hypothetical index is charged nothing): 5,000 of the selection's 43,500 plans. And a question with fewer candidates
than one planned whose plans used only candidates it has (Answers.wider: a replace dropping indexes a widening's
question had beside it): 300 more of 7,700 at 1,000 statements. Here the greedy's planners must get no question of
the first kind, the second must answer some, and the advice must be the one planning them all gives.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from .test_pool import _shop


def _suggest(conn: psycopg.Connection[Any], statements: list[Any], monkeypatch: pytest.MonkeyPatch,
             plan_all: bool) -> tuple[dict[str, Any], int, int]:
    """The advice (its JSON but for the plan count), how many questions with no candidate were planned, and how
    many Answers.wider answered."""
    from pgtune import api
    from pgtune.analyze import Options, answers, asking

    empty = wider = 0
    real_planners, real_wider = asking.planners, answers.Answers.wider

    def counted(self: Any, key: Any) -> bool:
        nonlocal wider
        found = real_wider(self, key)
        wider += found
        return found

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
        m.setattr(answers.Answers, "wider", counted)
        if plan_all:      # as before: every question is planned (but for Answers.derive's)
            m.setattr(answers.Answers, "unindexed", lambda self, costs: None)
            m.setattr(answers.Answers, "wider", lambda self, key: False)
        advice = api.suggest(conn, api.SuggestOptions(Options(min_rows=1000, jobs=1), constraints=False),
                             statements=statements).indexes
    out = advice.as_dict()
    out.pop("what_if_calls")
    for row in out["statements"]:       # pg_stat_statements' timings: not the advice
        for key in [k for k in row if k.endswith("_ms")]:
            row.pop(key)
    return out, empty, wider


@pytest.mark.needs_hypopg
def test_questions_answered_by_what_was_planned_are_not_planned(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    statements = _shop(conn, 10)     # the speed benchmark's ten shapes a table
    planned, asked_before, _ = _suggest(conn, statements, monkeypatch, plan_all=True)
    assert asked_before > 0      # the curve's sets less a statement's only index (98 at 10 tables)
    advice, asked, wider = _suggest(conn, statements, monkeypatch, plan_all=False)
    assert asked == 0 and wider > 0, (asked, wider)
    assert advice["indexes"] and advice == planned
