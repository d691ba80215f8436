"""A statement a withdrawn index served beside another one is planned again with the one left (r8's H1).

The generic-plan review (and the HOT charge) withdraw an index after the
selection costed each statement with the whole set. A statement whose plan used
the withdrawn index and a second one kept that plan's cost: the headline and the
migration's predicted cost counted an index pgtune no longer proposes.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import replan
from pgtune.analyze.model import Advice, AnalyzedStatement, IndexSuggestion, Method
from pgtune.capture import read_catalog

from .test_generic_plans import COUNT, EVENTS

LATEST = "SELECT id FROM ev WHERE website_id = $1 AND created_at >= $2 ORDER BY created_at DESC LIMIT 10"


def _index(name: str, column: str) -> IndexSuggestion:
    return IndexSuggestion("public", "ev", name, [column], [False],
                           f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON public.ev ({column})",
                           f"DROP INDEX CONCURRENTLY IF EXISTS public.{name}", "ANALYZE public.ev", "serves")


def _cost(conn: psycopg.Connection[Any], ddl: str | None, query: str = LATEST, website: str = "7",
          since: str = "2026-01-02") -> float:
    conn.execute("SELECT hypopg_reset()")
    if ddl is not None:
        conn.execute("SELECT hypopg_create_index(%s)", (ddl,))
    plan = conn.execute("EXPLAIN (FORMAT JSON) " + query.replace("$1", website).replace("$2", f"'{since}'")
                        ).fetchone()
    conn.execute("SELECT hypopg_reset()")
    assert plan is not None
    return float(plan[0][0]["Plan"]["Total Cost"])


@pytest.mark.needs_hypopg
def test_the_statement_keeps_the_cost_of_the_indexes_left(conn: psycopg.Connection[Any]) -> None:
    conn.execute(EVENTS)
    scen = [{"values": {"$1": "7", "$2": "2026-01-02"}, "source": "qualstats", "weight": 1.0}]
    # Credited by the selection with both indexes (a cost that needed the website_id one).
    latest = AnalyzedStatement(1, LATEST, 500, 5.0, cost_before=_cost(conn, None), cost_after=40.0,
                               indexes=["ev_created_at_idx", "ev_website_id_idx"], scenarios=scen)
    count = AnalyzedStatement(2, COUNT, 500, 30.0, cost_before=4000.0, cost_after=4000.0,
                              scenarios=[{"values": {"$1": "1", "$2": "2020-01-01"}, "source": "qualstats",
                                          "weight": 1.0}])
    advice = Advice(Method.HYPOPG, indexes=[_index("ev_website_id_idx", "website_id"),
                                            _index("ev_created_at_idx", "created_at")],
                    statements=[latest, count])
    advice.withdraw("ev_website_id_idx", "withdrawn for the test")
    assert advice.replan == [latest] and latest.cost_after == 40.0      # stale until planned again
    replan.again(conn, read_catalog(conn), advice)
    alone = _cost(conn, "CREATE INDEX ON ev (created_at)")
    assert latest.indexes == ["ev_created_at_idx"]
    assert latest.cost_after == pytest.approx(alone, rel=0.01), (latest.cost_after, alone)
    assert latest.cost_after > 40.0 and advice.replan == []
    assert conn.execute("SELECT count(*) FROM hypopg()").fetchone() == (0,)


@pytest.mark.needs_hypopg
def test_a_statement_the_rest_does_not_serve_is_no_longer_credited(conn: psycopg.Connection[Any]) -> None:
    conn.execute(EVENTS)
    scen = [{"values": {"$1": "1", "$2": "2020-01-01"}, "source": "qualstats", "weight": 1.0}]
    # The big website over all time: no index on created_at >= 2020 helps; the website_id one was withdrawn.
    count = AnalyzedStatement(2, COUNT, 500, 30.0, cost_before=_cost(conn, None, COUNT, "1", "2020-01-01"),
                              cost_after=100.0,
                              indexes=["ev_created_at_idx", "ev_website_id_idx"], scenarios=scen)
    advice = Advice(Method.HYPOPG, indexes=[_index("ev_website_id_idx", "website_id"),
                                            _index("ev_created_at_idx", "created_at")], statements=[count])
    advice.withdraw("ev_website_id_idx", "withdrawn for the test")
    replan.again(conn, read_catalog(conn), advice)
    assert count.indexes == [] and count.cost_after == count.cost_before

