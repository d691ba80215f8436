"""health never proposes REINDEX INDEX CONCURRENTLY for an exclusion constraint's index (p20, Formbricks-shaped DB).

PostgreSQL refuses it ("concurrent index creation for exclusion constraints is
not supported"). A billing table kept apart per organization by
``EXCLUDE USING gist ("organizationId" WITH =, period WITH &&)`` has a GiST
index larger than its narrow rows, without bloat (a fresh build of it was
1.5 MB beside the 1.3 MB one): index-larger-than-table proposed the REINDEX, and
``health --emit`` wrote it into a migration whose apply then failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

SCHEMA = """
CREATE TABLE orgs (id text PRIMARY KEY);
CREATE TABLE billing (id bigserial PRIMARY KEY, org_id text NOT NULL REFERENCES orgs (id),
                      period tstzrange NOT NULL, EXCLUDE USING gist (org_id WITH =, period WITH &&));
INSERT INTO orgs SELECT 'cog' || lpad(i::text, 21, '0') FROM generate_series(1, 3000) i;
INSERT INTO billing (org_id, period)
SELECT 'cog' || lpad(o::text, 21, '0'), tstzrange(timestamptz '2026-01-01' + m * interval '30 days',
                                                  timestamptz '2026-01-31' + m * interval '30 days')
FROM generate_series(1, 3000) o, generate_series(0, 5) m;
ANALYZE;
"""


def test_no_concurrent_reindex_of_an_exclusion_index(conn: psycopg.Connection[Any]) -> None:
    from pgtune import api

    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    except psycopg.Error:
        pytest.skip("btree_gist is not available on this server")
    conn.execute(SCHEMA)
    size = conn.execute("SELECT pg_relation_size('billing_org_id_period_excl') > "
                        "greatest(pg_relation_size('billing'), 1048576)").fetchone()
    assert size == (True,)          # the case: the exclusion index is over 1 MB and larger than its table
    report = api.health(conn, only=["index-larger-than-table"])
    found = [f for f in report.findings if f.index == "billing_org_id_period_excl"]
    assert found, report.findings
    for f in found:
        for stmt in f.fix:
            conn.execute(stmt)      # every fix runs on the server as written
        assert "exclusion constraint" in f.message


def test_health_emit_leaves_the_exclusion_index_to_a_person(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """health --emit wrote the REINDEX CONCURRENTLY into a phase, and apply failed on it."""
    from pgtune import api

    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    except psycopg.Error:
        pytest.skip("btree_gist is not available on this server")
    conn.execute(SCHEMA)
    report = api.health(conn, only=["index-larger-than-table"], emit=api.EmitOptions(directory=tmp_path / "h"))
    scripts = "".join(p.read_text() for p in sorted((tmp_path / "h").glob("*_up.sql")))
    assert "REINDEX" not in scripts, scripts
    assert report.migration is None or any("exclusion constraint" in s for s in report.migration.left_out), report
