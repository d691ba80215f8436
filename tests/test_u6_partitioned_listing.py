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
from psycopg import sql

from pgtune.cli import cli


def _partitioned(db: str, tmp_path: Path, table: str) -> str:
    """suggest's table output for a statement on ``table``, range-partitioned in two halves of 2026."""
    t = sql.Identifier(table)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(sql.SQL('CREATE TABLE {} (id int NOT NULL, "envelopeId" int NOT NULL, at date NOT NULL) '
                             "PARTITION BY RANGE (at)").format(t))
        for half, (low, high) in enumerate((("2026-01-01", "2026-07-01"), ("2026-07-01", "2027-01-01")), 1):
            part = sql.Identifier(f"part_h{half}")
            conn.execute(sql.SQL("CREATE TABLE {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
                part, t, sql.Literal(low), sql.Literal(high)))
            conn.execute(sql.SQL("ANALYZE {}").format(part))
        conn.execute(sql.SQL("INSERT INTO {} SELECT g, g % 5000, date '2026-01-01' + g % 360 "
                             "FROM generate_series(1, 40000) g").format(t))
        conn.execute(sql.SQL("ANALYZE {}").format(t))
        query = sql.SQL('SELECT * FROM {} WHERE "envelopeId" = 42;\n').format(t).as_string(conn)
    path = tmp_path / "q.sql"
    path.write_text(query * 5)
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(path), "--no-constraints"])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_listing_says_how_a_partitioned_tables_index_is_built(db: str, tmp_path: Path) -> None:
    out = _partitioned(db, tmp_path, "audit")
    assert "audit_envelopeId_idx" in out
    assert 'CONCURRENTLY IF NOT EXISTS "audit_envelopeId_idx" ON public.audit ' not in out
    assert "public.audit is partitioned" in out


def test_a_hostile_table_name_stays_inside_the_comment(db: str, tmp_path: Path) -> None:
    """The names in the comment line come from the catalog: a newline in one must not end the comment (r7)."""
    out = _partitioned(db, tmp_path, "audit\nDROP TABLE victim; --")
    assert "is partitioned" in out
    assert not any(line.lstrip().startswith("DROP TABLE victim") for line in out.splitlines()), out
