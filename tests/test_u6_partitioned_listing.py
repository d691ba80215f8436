"""suggest's listing never prints a CREATE INDEX CONCURRENTLY on a partitioned table (PostgreSQL refuses it).

u6 (documenso-shaped, "DocumentAuditLog" range-partitioned): the listing
printed CREATE INDEX CONCURRENTLY … ON app."DocumentAuditLog", which fails
("cannot create index on partitioned table concurrently") for a DBA who runs
it; --emit already writes ON ONLY, a build per partition and ATTACH.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli


def test_the_listing_says_how_a_partitioned_tables_index_is_built(db: str, tmp_path: Path) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute('CREATE TABLE audit (id int NOT NULL, "envelopeId" int NOT NULL, at date NOT NULL) '
                     "PARTITION BY RANGE (at)")
        conn.execute("CREATE TABLE audit_h1 PARTITION OF audit FOR VALUES FROM ('2026-01-01') TO ('2026-07-01')")
        conn.execute("CREATE TABLE audit_h2 PARTITION OF audit FOR VALUES FROM ('2026-07-01') TO ('2027-01-01')")
        conn.execute("INSERT INTO audit SELECT g, g % 5000, date '2026-01-01' + g % 360 "
                     "FROM generate_series(1, 40000) g")
        conn.execute("ANALYZE audit")
        conn.execute("ANALYZE audit_h1")
        conn.execute("ANALYZE audit_h2")
    path = tmp_path / "q.sql"
    path.write_text('SELECT * FROM audit WHERE "envelopeId" = 42;\n' * 5)
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(path), "--no-constraints"])
    assert result.exit_code == 0, result.output
    assert "audit_envelopeId_idx" in result.stdout
    assert 'CONCURRENTLY IF NOT EXISTS "audit_envelopeId_idx" ON public.audit ' not in result.stdout
    assert "public.audit is partitioned" in result.stdout
