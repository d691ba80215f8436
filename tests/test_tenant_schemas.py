"""p15 (Rallly-shaped, a schema per tenant): the same index name in each tenant's schema is two indexes.

Two tenants' schemas hold the same tables, and the app's same statements name each schema; the advice
proposes the same index name in both, and what is keyed by an index's name must be keyed by its schema too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import plan

from .helpers import emitted

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
