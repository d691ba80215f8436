"""p15 (Rallly-shaped, a schema per tenant): the same index name in each tenant's schema is two indexes.

Two tenants' schemas hold the same tables, and the app's same statements name each schema; the advice
proposes the same index name in both, and what is keyed by an index's name must be keyed by its schema too.
The statements a plan used were looked up by the index's bare name, so t_small's index listed t_big's statement
among those it serves, with t_big's planner cut as its own ("serves 2 statements; planner cost 1,331x lower" on
both on the Rallly-shaped database, where t_globex's own cut was 266 -> 5 over 15 calls).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import plan
from pgtune.analyze import Options

from .helpers import emitted, suggest

TENANT = """
CREATE SCHEMA {s};
CREATE TABLE {s}.polls (id text PRIMARY KEY, title text NOT NULL, user_id text NOT NULL,
  created_at timestamp(3) NOT NULL);
INSERT INTO {s}.polls SELECT 'p' || g, 'Poll ' || g, 'u' || (g % {users}), now() - g * interval '1 minute'
  FROM generate_series(1, {rows}) g;
ANALYZE {s}.polls;
"""
RECENT = ('SELECT "{s}"."polls"."id", "{s}"."polls"."title" FROM "{s}"."polls" WHERE "{s}"."polls"."user_id" = $1 '
          'ORDER BY "{s}"."polls"."created_at" DESC LIMIT $2')


def _two_tenants_advised(db: str, conn: psycopg.Connection[Any]) -> Any:
    """t_big and t_small, the same tables, each tenant's recent-polls statement run as the app runs it; advised."""
    conn.execute(TENANT.format(s="t_big", rows=100000, users=5000))
    conn.execute(TENANT.format(s="t_small", rows=5000, users=500))
    conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(db, autocommit=True, prepare_threshold=None, cursor_factory=psycopg.RawCursor) as app:
        for schema, calls in (("t_big", 60), ("t_small", 6)):
            for k in range(calls):
                app.execute(RECENT.format(s=schema), (f"u{k * 7}", 3)).fetchall()
    return suggest(conn, options=Options(min_rows=100))


@pytest.mark.needs_hypopg
def test_a_tenant_schemas_index_serves_its_own_statements(db: str, conn: psycopg.Connection[Any]) -> None:
    advice = _two_tenants_advised(db, conn)
    proposals = {(ix.schema, ix.table): ix for ix in advice.indexes}
    assert {("t_big", "polls"), ("t_small", "polls")} <= set(proposals), advice.indexes
    for (schema, _table), ix in proposals.items():
        assert ix.queries and all(f'"{schema}"."polls"' in q.query for q in ix.queries), (schema, ix.reason)
    big, small = proposals[("t_big", "polls")], proposals[("t_small", "polls")]
    assert big.name == small.name                         # the same name in each tenant's schema
    assert small.cost_before is not None and big.cost_before is not None
    assert small.cost_before < big.cost_before / 5        # t_small's own statement, not t_big's too


@pytest.mark.needs_hypopg
def test_each_tenants_statement_is_predicted_warm_with_its_own_index(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """The warm prediction made the migration's indexes hypothetically keyed by bare name: only the last
    schema's was made, so t_big's statement was predicted warm with no index (1.0x) and verify blamed the
    cost model for the 200x it measured."""
    conn.execute(TENANT.format(s="t_big", rows=100000, users=5000))
    conn.execute(TENANT.format(s="t_small", rows=5000, users=500))
    queries = "\n".join(RECENT.format(s=s).replace("$1", "'u7'").replace("$2", "3") + ";"
                        for s in ("t_big", "t_small"))
    emitted(conn, tmp_path / "m", queries, measure=True)
    m = plan.load(tmp_path / "m")
    assert sorted((ix.schema, ix.name) for p in m.phases for ix in p.indexes) == [
        ("t_big", "polls_user_id_created_at_desc_idx"), ("t_small", "polls_user_id_created_at_desc_idx")]
    assert len(m.targets) == 2
    for t in m.targets:
        assert t.warm_baseline_cost is not None and t.warm_predicted_cost is not None, t.query
        assert t.warm_predicted_cost < t.warm_baseline_cost / 5, (t.query, t.warm_baseline_cost, t.warm_predicted_cost)


@pytest.mark.needs_hypopg
def test_replan_prices_each_tenants_index_with_its_own_candidate(db: str, conn: psycopg.Connection[Any],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """replan._calibration looked a hypothetical index's candidate up by bare name: both tenants' same-named
    proposals were priced with the last one's (t_small's keys and statistics for t_big's index)."""
    from pgtune import catalog_sql
    from pgtune.analyze import calibration, replan
    from pgtune.analyze.generic_plans import hypothetical_proposals
    from pgtune.capture import read_catalog

    advice = _two_tenants_advised(db, conn)
    assert advice.pricing is not None and len({ix.name for ix in advice.indexes}) < len(advice.indexes)
    priced: list[tuple[str, str]] = []
    descent = calibration.Pricing.descent

    def recorded(self: calibration.Pricing, cand: Any) -> Any:
        priced.append(cand.table)
        return descent(self, cand)
    monkeypatch.setattr(calibration.Pricing, "descent", recorded)
    hypopg = catalog_sql.extension_schema(conn, "hypopg")
    made = hypothetical_proposals(conn, read_catalog(conn), advice.indexes, hypopg)
    replan._calibration(conn, read_catalog(conn), advice, made, hypopg)
    assert sorted(priced) == sorted((ix.schema, ix.table) for ix in advice.indexes), priced



def test_withdrawing_one_tenants_proposal_keeps_the_others() -> None:
    """Advice.withdraw took out every proposal of that name: the HOT charge (or a dependent key) withdrawing
    t_globex's index withdrew t_acme's same-named one too, and t_acme's statement lost its cost cut."""
    from pgtune.analyze.model import Advice, AnalyzedStatement, IndexSuggestion, Method
    from pgtune.capture import Statement

    name = "polls_user_id_created_at_desc_idx"
    rows = {s: AnalyzedStatement(None, RECENT.format(s=s), 10, 1.0, cost_before=900.0, cost_after=4.0,
                                 indexes=[name]) for s in ("t_big", "t_small")}
    advice = Advice(indexes=[IndexSuggestion(s, "polls", name, ["user_id", "created_at"], [False, True], "", "", "",
                                             "", queries=[Statement(RECENT.format(s=s))]) for s in rows],
                    statements=list(rows.values()), method=Method.HYPOPG)
    advice.withdraw(name, "withdrawn in t_small", "t_small")
    assert [(ix.schema, ix.name) for ix in advice.indexes] == [("t_big", name)]
    assert rows["t_big"].indexes == [name] and rows["t_big"].cost_after == 4.0
    assert rows["t_small"].indexes == [] and rows["t_small"].cost_after == 900.0
