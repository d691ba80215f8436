"""A statement planned again after a withdrawal is priced as the selection priced it (r11 F9).

analyze.replan plans again the statements a withdrawn (or narrowed) proposal
served beside others, and since the summary line is restated from those costs
(Advice.restate) they make the headline. Planned with HypoPG's raw costs, a
``count(*) ... GROUP BY`` was credited an index-only scan (11,627 -> 4,715)
that the selection had refused: the writes since the last VACUUM cleared the
table's visibility bits, and the built index's plan does not use it
(analyze.calibration prices those heap fetches).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import replan
from pgtune.analyze.model import Advice, AnalyzedStatement, IndexSuggestion, Method
from pgtune.capture import read_catalog
from tests.helpers import suggest
from tests.test_q9_visibility import _observations

Q = "SELECT count(*), bookmarked FROM observations WHERE project_id = $1 GROUP BY bookmarked"
NAME = "observations_project_id_incl_bookmarked_idx"


def _replanned(conn: psycopg.Connection[Any]) -> AnalyzedStatement:
    """The count, credited by a selection with the covering index and another one, the other withdrawn."""
    before = _cost(conn)
    ix = IndexSuggestion("public", "observations", NAME, ["project_id"], [False],
                         f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME} ON public.observations (project_id) "
                         "INCLUDE (bookmarked)", f"DROP INDEX CONCURRENTLY IF EXISTS public.{NAME}",
                         "ANALYZE public.observations", "serves", include=["bookmarked"])
    st = AnalyzedStatement(1, Q, 20, 5.0, cost_before=before, cost_after=before / 10, indexes=[NAME, "gone"],
                           scenarios=[{"values": {"$1": "proj_1"}, "source": "qualstats", "weight": 1.0}])
    advice = Advice(Method.HYPOPG, indexes=[ix], statements=[st])
    advice.withdraw("gone", "withdrawn for the test")
    assert advice.replan == [st]
    replan.again(conn, read_catalog(conn), advice)
    return st


def _cost(conn: psycopg.Connection[Any]) -> float:
    row = conn.execute("EXPLAIN (FORMAT JSON) " + Q.replace("$1", "'proj_1'")).fetchone()
    assert row is not None
    return float(row[0][0]["Plan"]["Total Cost"])


@pytest.mark.needs_hypopg
def test_no_index_only_scan_credited_on_pages_the_writes_cleared(conn: psycopg.Connection[Any]) -> None:
    _observations(conn, ended=True)
    st = _replanned(conn)
    assert st.indexes == [] and st.cost_after == st.cost_before, (st.cost_before, st.cost_after)
    conn.execute(f"CREATE INDEX {NAME} ON observations (project_id) INCLUDE (bookmarked)")
    assert st.cost_before is not None and _cost(conn) > st.cost_before * 0.95   # built, it gains nothing either


@pytest.mark.needs_hypopg
def test_an_all_visible_table_keeps_its_credit(conn: psycopg.Connection[Any]) -> None:
    _observations(conn, ended=False)
    st = _replanned(conn)
    assert st.indexes == [NAME], (st.cost_before, st.cost_after)
    assert st.cost_before is not None and st.cost_after is not None and st.cost_after < st.cost_before / 2


@pytest.mark.needs_hypopg
def test_the_advice_keeps_the_selections_pricing(conn: psycopg.Connection[Any]) -> None:
    """What replan prices with is the advisor's: its Pricing (sampled shares and keys) and each proposal's
    candidate, neither of them in suggest's JSON."""
    _observations(conn, ended=False)
    advice = suggest(conn)
    (ix,) = [s for s in advice.indexes if s.table == "observations"]
    assert advice.pricing is not None and advice.sources[(ix.schema, ix.name)].include == ("bookmarked",)
    assert not {"pricing", "sources", "replan"} & set(advice.as_dict())
