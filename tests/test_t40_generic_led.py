"""The generic-plan review keeps a proposal whose statement at risk reads through an existing index leading it
today (t40, Papermark-shaped). ``(teamId, hiddenInAllDocuments, createdAt DESC)`` served the document list
(a big team's first page 161.8 -> 0.09 ms, built); it was withdrawn because the count beside it would take it in
its generic plan, which already read (teamId, hiddenInAllDocuments) at the same estimate, 59.24 with and
without it: the rows the generic plan reads through the proposal are those it reads today."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import generic_plans
from pgtune.analyze.model import Advice, AnalyzedStatement, IndexSuggestion, Method
from pgtune.capture import read_catalog

DOCS = """
CREATE TABLE doc (id bigint PRIMARY KEY, team_id int NOT NULL, hidden boolean NOT NULL,
                  created_at timestamptz NOT NULL);
INSERT INTO doc SELECT g, CASE WHEN g % 2 = 0 THEN 1 ELSE 2 + g % 999 END, g % 33 = 0,
                       timestamptz '2026-01-01' + g * interval '1 minute' FROM generate_series(1, 200000) g;
CREATE INDEX doc_team_id_hidden_idx ON doc (team_id, hidden);
ANALYZE doc;
"""
COUNT = "SELECT count(*) FROM (SELECT id FROM doc WHERE team_id = $1 AND hidden = $2 OFFSET $3) AS sub"
LIST = "SELECT id FROM doc WHERE team_id = $1 AND hidden = $2 ORDER BY created_at DESC LIMIT $3 OFFSET $4"
INDEX = "doc_team_id_hidden_created_at_desc_idx"


def _advice() -> Advice:
    """The proposal for LIST (a small team), and COUNT called for the big team (half the rows)."""
    def scenario(values: dict[str, str | None]) -> list[dict[str, Any]]:
        return [{"values": values, "source": "qualstats", "weight": 1.0}]

    listed = AnalyzedStatement(1, LIST, 500, 5.0, cost_before=4000.0, cost_after=40.0, indexes=[INDEX],
                               scenarios=scenario({"$1": "7", "$2": "f", "$3": "10", "$4": "0"}))
    count = AnalyzedStatement(2, COUNT, 500, 30.0, cost_before=4000.0, cost_after=4000.0,
                              scenarios=scenario({"$1": "1", "$2": "f", "$3": "0"}))
    ix = IndexSuggestion("public", "doc", INDEX, ["team_id", "hidden", "created_at"], [False, False, True],
                         f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON public.doc (team_id, hidden, "
                         "created_at DESC)", f"DROP INDEX CONCURRENTLY IF EXISTS public.{INDEX}",
                         "ANALYZE public.doc", "serves 1 statement")
    return Advice(Method.HYPOPG, indexes=[ix], statements=[listed, count])


@pytest.mark.needs_hypopg
def test_a_generic_plan_reading_an_index_leading_the_proposal_today_keeps_it(conn: psycopg.Connection[Any]) -> None:
    conn.execute(DOCS)
    conn.execute("SET plan_cache_mode = force_generic_plan")
    conn.execute(f"PREPARE c(int, boolean, bigint) AS {COUNT}")
    today = str(conn.execute("EXPLAIN EXECUTE c(1, false, 0)").fetchall())
    assert "doc_team_id_hidden_idx" in today, today          # the generic plan reads it now, with no new index
    conn.execute("DEALLOCATE c")
    conn.execute("RESET plan_cache_mode")
    advice = _advice()
    generic_plans.review(conn, read_catalog(conn), advice)
    assert [ix.name for ix in advice.indexes] == [INDEX], advice.hints
    [hint] = advice.hints
    assert hint.startswith(f"{INDEX} kept although the generic plan of statement 2 (") and \
        "doc_team_id_hidden_idx today" in hint, hint
    assert conn.execute("SELECT count(*) FROM hypopg_list_indexes").fetchone() == (0,)


@pytest.mark.needs_hypopg
def test_without_the_leading_index_the_generic_plans_risk_still_withdraws_it(conn: psycopg.Connection[Any]) -> None:
    conn.execute(DOCS)
    conn.execute("DROP INDEX doc_team_id_hidden_idx")
    advice = _advice()
    generic_plans.review(conn, read_catalog(conn), advice)
    assert advice.indexes == [], advice.hints
    [hint] = advice.hints
    assert hint.startswith(f"{INDEX} withdrawn: the generic plan of statement 2 ("), hint
