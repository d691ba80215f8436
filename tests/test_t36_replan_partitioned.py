"""A statement on a partitioned table that replan.again plans again keeps the cut its proposal gives (t36, MEDIUM).

replan.again made its proposals hypothetically with generic_plans.hypothetical_proposals, which leaves out those
on a partitioned table (the generic-plan review does not review them). On a Documenso-shaped database (the audit
log range-partitioned by month, row security on "teamId"), a statement planned again after a key was taken out
of its proposal (dependent_keys) named no index and kept its cost before: suggest --max-index-mb 40 said
31,815,319 -> 31,798,337 (1.0x) while proposing the 33.5 MB index "planner cost 612.0x lower". HypoPG 1.3.1 makes
a hypothetical index on a partitioned table (each partition's plan names it); replan.again now plans with them.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import replan
from pgtune.analyze.model import Advice, AnalyzedStatement, IndexSuggestion, Method
from pgtune.capture import read_catalog

PARTITIONED = """
CREATE TABLE plog (id bigint NOT NULL, "teamId" int NOT NULL, "envelopeId" text NOT NULL,
  "createdAt" timestamptz NOT NULL) PARTITION BY RANGE ("createdAt");
CREATE TABLE plog_2026_06 PARTITION OF plog FOR VALUES FROM ('2026-06-01') TO ('2026-07-01');
CREATE TABLE plog_default PARTITION OF plog DEFAULT;
INSERT INTO plog SELECT g, g / 8 % 500, 'env' || g / 8, timestamptz '2026-06-01' + g * interval '20 seconds'
FROM generate_series(1, 200000) g;
ANALYZE plog;
"""


@pytest.mark.needs_hypopg
def test_a_statement_on_a_partitioned_table_planned_again_keeps_its_cut(conn: psycopg.Connection[Any]) -> None:
    """replan.again made no proposal on a partitioned table hypothetically (the generic-plan review's rule, whose
    hypothetical_proposals it shares): each statement on one it planned again lost its whole cut."""
    conn.execute(PARTITIONED)
    conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
    name = "plog_envelopeId_createdAt_idx"
    proposal = IndexSuggestion("public", "plog", name, ["envelopeId", "createdAt"], [False, True],
                               f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON public.plog ("envelopeId", '
                               '"createdAt" DESC)', f'DROP INDEX CONCURRENTLY IF EXISTS public."{name}"',
                               "ANALYZE public.plog", "serves 1 statement", partitioned=True)
    query = 'SELECT id FROM plog WHERE "envelopeId" = $1 ORDER BY "createdAt" DESC LIMIT 30'
    values: dict[str, str | None] = {"$1": "env77"}
    st = AnalyzedStatement(1, query, 100, 30.0, cost_before=4000.0, cost_after=60.0, indexes=[name],
                           values=dict(values), scenarios=[{"values": dict(values), "weight": 1.0}])
    advice = Advice(Method.HYPOPG, indexes=[proposal], statements=[st], replan=[st])
    replan.again(conn, read_catalog(conn), advice)
    assert st.indexes == [name], st.indexes
    assert st.cost_after is not None and st.cost_before is not None and st.cost_after < st.cost_before / 10
