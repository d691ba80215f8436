"""benchmarks/tpch.py (and tpcds.py through it): the predicted relative cost is that of the final plans suggest
emits with its set, summed, not the curve's point (issue 28's TPC-DS headline: the two differ there)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from .helpers import run, suggest
from .test_selection import events

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


def tpch() -> Any:
    sys.path.insert(0, str(BENCHMARKS))     # tpch.py imports its neighbours (bound, peer_advisor)
    try:
        spec = importlib.util.spec_from_file_location("tpch", BENCHMARKS / "tpch.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["tpch"] = module        # its dataclasses look their module up there
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.mark.needs_hypopg
def test_the_predicted_figure_is_the_emitted_plans_summed(conn: psycopg.Connection[Any]) -> None:
    events(conn)
    run(conn, 'SELECT count(*) FROM event WHERE "accountId" = %s', [(i,) for i in range(10)], times=20)
    run(conn, "SELECT sum(amount) FROM event WHERE day BETWEEN %s AND %s", [("2026-03-01", "2026-03-03")], times=5)
    run(conn, "SELECT count(*) FROM event WHERE note = 'y'", times=3)     # no index helps: its plan stays
    advice = suggest(conn)
    assert advice.indexes
    before = sum(st.calls * st.cost_before for st in advice.statements if st.cost_before is not None)
    after = sum(st.calls * (st.cost_after if st.cost_after is not None else st.cost_before)
                for st in advice.statements if st.cost_before is not None)
    assert tpch().emitted(advice) == pytest.approx(after / before)
    assert after < before
