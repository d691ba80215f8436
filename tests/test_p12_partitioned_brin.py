"""p12: a BRIN candidate on a partitioned table is sized as its partitions' BRINs, not by HypoPG on the parent.

On a Documenso-shaped audit log (monthly partitions, 1.2M rows) suggest's hint said the BRIN on "createdAt" would
take 449.52 MB: HypoPG 1.3.1 sizes a hypothetical BRIN on a partitioned parent (relpages -1) at hundreds of MB,
where each partition's is 24 kB. The size is now the sum over the leaf partitions.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import beyond
from pgtune.analyze.kinds import KindCandidate
from pgtune.capture import read_catalog
from pgtune.ddl import IndexKey, IndexMethod

EVENTS = """
CREATE TABLE ev (id bigint NOT NULL, "createdAt" timestamp NOT NULL, kind text NOT NULL)
  PARTITION BY RANGE ("createdAt");
CREATE TABLE ev_1 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE ev_2 PARTITION OF ev FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
CREATE TABLE ev_3 PARTITION OF ev FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');
CREATE TABLE ev_default PARTITION OF ev DEFAULT;
INSERT INTO ev SELECT g, timestamp '2026-01-01' + g * interval '20 seconds', 'k' || g % 7
  FROM generate_series(1, 400000) g;
ANALYZE ev;
"""


@pytest.mark.needs_hypopg
def test_a_brin_on_a_partitioned_table_is_sized_by_its_partitions(conn: psycopg.Connection[Any]) -> None:
    conn.execute(EVENTS)
    cand = KindCandidate(("public", "ev"), IndexKey("createdAt"), IndexMethod.BRIN)
    got = beyond._cost(conn, read_catalog(conn), cand, [], trial=None, use_hypopg=True, say=lambda _m: None)
    assert not isinstance(got, str), got
    leaves = sum(int(r[0]) for r in conn.execute(
        "SELECT hypopg_relation_size(indexrelid) FROM unnest(ARRAY['ev_1', 'ev_2', 'ev_3', 'ev_default']) AS t, "
        "LATERAL hypopg_create_index(format('CREATE INDEX ON %I USING brin (\"createdAt\")', t))"))
    conn.execute("SELECT hypopg_reset()")
    assert 0 < got.size_bytes == leaves < 1024 * 1024, (got.size_bytes, leaves)
