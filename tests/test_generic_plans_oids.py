"""The generic-plan review makes every proposal hypothetical, however many: on a session no what-if costing ran
in (pgtune's own, since what-if sessions are the pool's: analyze.pool), HypoPG's own oids ran out after a few
thousand, and the proposals past them were never made (4,500 at benchmarks/speed.py's 5,000 statements)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import generic_plans
from pgtune.analyze.model import IndexSuggestion
from pgtune.capture import read_catalog


@pytest.mark.needs_hypopg
def test_thousands_of_proposals_are_all_made_on_a_fresh_session(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE wide (a int, b int, c int)")
    conn.execute("INSERT INTO wide SELECT g, g % 7, g % 11 FROM generate_series(1, 1000) g")
    conn.execute("ANALYZE wide")
    catalog = read_catalog(conn)
    proposals = [IndexSuggestion("public", "wide", f"wide_{n}_idx", ["a"], [False],
                                 f"CREATE INDEX CONCURRENTLY IF NOT EXISTS wide_{n}_idx ON public.wide (a)",
                                 f"DROP INDEX CONCURRENTLY IF EXISTS public.wide_{n}_idx", "ANALYZE public.wide", "")
                 for n in range(6000)]
    with psycopg.connect(db, autocommit=True) as fresh:
        made = generic_plans.hypothetical_proposals(fresh, catalog, proposals, None)
        assert len(made) == 6000
        fresh.execute("SELECT hypopg_reset()")
