"""The selection's summary line ("chosen step N: MB, cost %") describes the set emitted, after withdrawals (q9).

The reviews after the selection (generic plans, HOT, a covering twin, a key
the others determine) withdraw a proposal or take a key out of one; the
chosen curve point, which the summary line and the JSON print, kept the set
and cost from before them.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import replan
from pgtune.analyze.model import Advice, AnalyzedStatement, CurvePoint, Method
from pgtune.analyze.selection import StepKind
from pgtune.capture import read_catalog

from .test_generic_plans import COUNT, EVENTS
from .test_replan import LATEST, _cost, _index


@pytest.mark.needs_hypopg
def test_the_chosen_point_is_the_set_left(conn: psycopg.Connection[Any]) -> None:
    conn.execute(EVENTS)
    before = _cost(conn, None)
    scen = [{"values": {"$1": "7", "$2": "2026-01-02"}, "source": "qualstats", "weight": 1.0}]
    latest = AnalyzedStatement(1, LATEST, 500, 5.0, cost_before=before, cost_after=40.0,
                               indexes=["ev_created_at_idx", "ev_website_id_idx"], scenarios=scen)
    count = AnalyzedStatement(2, COUNT, 10, 30.0, cost_before=4000.0, cost_after=4000.0)
    website, created = _index("ev_website_id_idx", "website_id"), _index("ev_created_at_idx", "created_at")
    website.forecast_bytes, created.forecast_bytes = 3 << 20, 2 << 20
    start = 500 * before + 10 * 4000.0
    both = start - 500 * (before - 40.0)
    advice = Advice(Method.HYPOPG, indexes=[website, created], statements=[latest, count], curve=[
        CurvePoint(0, StepKind.NONE, None, None, 0, 0, start, True, []),
        CurvePoint(1, StepKind.ADD, "ev_created_at_idx", None, 2 << 20, 0, both + 100.0, True, ["ev_created_at_idx"]),
        CurvePoint(2, StepKind.ADD, "ev_website_id_idx", None, 5 << 20, 0, both, True,
                   ["ev_created_at_idx", "ev_website_id_idx"])])
    advice.withdraw("ev_website_id_idx", "withdrawn for the test")
    replan.again(conn, read_catalog(conn), advice)
    chosen = [p for p in advice.curve if p.chosen][-1]
    assert chosen.indexes == ["ev_created_at_idx"]
    assert chosen.forecast_bytes == 2 << 20
    assert chosen.cost == pytest.approx(start - 500 * (before - latest.cost_after))
    assert chosen.cost > both          # the withdrawn index's share of the gain is gone
