"""An index only a prepared statement's generic plan would take is withdrawn (u8, Umami-shaped).

PostgreSQL runs a named prepared statement's generic plan once its estimate is
below the custom plans' average. On skewed data (one website with half the
events, a thousand small ones) the generic plan of ``website_id = $1`` prices
one website in a thousand and takes an index on website_id, which, run for the
big website the statement is called for, reads half the table through it; the
plan made with that value reads it sequentially.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import generic_plans
from pgtune.analyze.model import Advice, AnalyzedStatement, IndexSuggestion, Method
from pgtune.capture import read_catalog

EVENTS = """
CREATE TABLE ev (id bigint PRIMARY KEY, website_id int NOT NULL, event_type int NOT NULL,
                 created_at timestamptz NOT NULL);
INSERT INTO ev SELECT g, CASE WHEN g % 2 = 0 THEN 1 ELSE 2 + g % 999 END, g % 5,
                      timestamptz '2026-01-01' + g * interval '1 minute' FROM generate_series(1, 200000) g;
ANALYZE ev;
"""
COUNT = "SELECT count(*) FROM ev WHERE website_id = $1 AND created_at >= $2"
LATEST = "SELECT id FROM ev WHERE website_id = $1 ORDER BY created_at DESC LIMIT 10"
INDEX = "ev_website_id_idx"


def _advice(count_for: str) -> Advice:
    """The website_id index proposed for LATEST (a small website), and COUNT called for website ``count_for``."""
    def scenario(values: dict[str, str | None]) -> list[dict[str, Any]]:
        return [{"values": values, "source": "qualstats", "weight": 1.0}]

    latest = AnalyzedStatement(1, LATEST, 500, 5.0, cost_before=4000.0, cost_after=40.0, indexes=[INDEX],
                               scenarios=scenario({"$1": "7"}))
    count = AnalyzedStatement(2, COUNT, 500, 30.0, cost_before=4000.0, cost_after=4000.0,
                              scenarios=scenario({"$1": count_for, "$2": "2020-01-01"}))
    ix = IndexSuggestion("public", "ev", INDEX, ["website_id"], [False],
                         f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON public.ev (website_id)",
                         f"DROP INDEX CONCURRENTLY IF EXISTS public.{INDEX}", "ANALYZE public.ev", "serves 1 statement")
    return Advice(Method.HYPOPG, indexes=[ix], statements=[latest, count])


@pytest.mark.needs_hypopg
def test_an_index_only_the_generic_plan_takes_is_withdrawn(conn: psycopg.Connection[Any]) -> None:
    conn.execute(EVENTS)
    advice = _advice("1")           # the big website: its plans read the table, the generic plan the index
    generic_plans.review(conn, read_catalog(conn), advice)
    assert advice.indexes == []
    [hint] = advice.hints
    assert hint.startswith(f"{INDEX} withdrawn: the generic plan of statement 2 (") and "prepared" in hint, hint
    latest = advice.statements[0]
    assert latest.indexes == [] and latest.cost_after == latest.cost_before     # the headline does not count it
    assert conn.execute("SELECT count(*) FROM hypopg_list_indexes").fetchone() == (0,)


@pytest.mark.needs_hypopg
def test_an_index_the_plans_with_values_take_too_stays(conn: psycopg.Connection[Any]) -> None:
    conn.execute(EVENTS)
    advice = _advice("9")           # a small website: its own plan takes the index as the generic one does
    generic_plans.review(conn, read_catalog(conn), advice)
    assert [ix.name for ix in advice.indexes] == [INDEX] and advice.hints == []
