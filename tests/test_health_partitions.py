"""Issue 24.3 and 24.8 for health, on the production-shaped database (tests/production.py); 23.6's provenance.

Partitioned indexes are judged once, at the parent; a partition's attached
index and the per-partition clones of a foreign key are never findings of
their own; every fix runs (PostgreSQL refuses DROP INDEX CONCURRENTLY on an
attached or a partitioned index, and CREATE INDEX CONCURRENTLY on a
partitioned table); foreign keys on 20-row tables are left to --min-rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.health import Finding

from . import production
from .helpers import emitted

SCALE = 0.05          # 50k events: the shape matters here, not the size


def _partition_names(conn: psycopg.Connection[Any]) -> set[str]:
    """Every partition, every index attached to a partitioned index, every foreign-key clone."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relispartition "
        "UNION SELECT conname FROM pg_constraint WHERE conparentid <> 0 AND conname ~ '_fkey[0-9]+$'").fetchall()
    return {r[0] for r in rows}


def _named(f: Finding) -> set[str]:
    return {x for x in (f.table, f.index, f.evidence.get("constraint")) if x}


def _by(findings: list[Finding]) -> dict[tuple[str, str | None, str | None], Finding]:
    return {(f.check, f.table, f.index): f for f in findings}


def test_partitioned_indexes_and_keys_are_judged_once_at_the_parent(db: str, conn: psycopg.Connection[Any]) -> None:
    production.build(db, scale=SCALE)
    report = api.health(conn, min_stats_age_s=0)
    hidden = _partition_names(conn)
    for f in report.findings:
        assert not _named(f) & hidden, (f.check, f.table, f.index, f.evidence.get("constraint"))
        assert not any(" ON app.events_" in s and "CONCURRENTLY" not in s for s in f.fix)
    got = _by(report.findings)
    overlapping = got[("overlapping-index", "events", "events_accountId_idx")]
    assert overlapping.fix == ['DROP INDEX IF EXISTS "app"."events_accountId_idx"']      # no CONCURRENTLY
    assert overlapping.evidence["partitioned"] and len(overlapping.evidence["partitions"]) == 8   # 7 months, default
    unused = got[("unused-index", "events", "events_type_idx")]
    assert unused.evidence["index_bytes"] > 0 and unused.fix == ['DROP INDEX IF EXISTS "app"."events_type_idx"']
    # Foreign keys: the key into events once (not _fkey1 … _fkey8), events' and notifications' keys once each.
    keys = [f.evidence["constraint"] for f in report.findings if f.check == "foreign-key-without-index"]
    assert keys.count("alerts_eventId_eventCreatedAt_fkey") == 1
    assert keys.count("events_userId_fkey") == 1 and keys.count("notifications_userId_fkey") == 1
    # The ON ONLY index left invalid: described as what it is.
    invalid = got[("invalid-index", "events", "events_documentId_idx")]
    assert "8 partition(s) have no index attached" in invalid.message and "writes maintain" not in invalid.message
    assert len(invalid.evidence["unattached"]) == 8


def test_foreign_keys_on_small_tables_wait_for_min_rows(db: str, conn: psycopg.Connection[Any]) -> None:
    """24.8: 22 foreign keys of 20-row tables are noise at the default --min-rows, and all there at 0."""
    production.build(db, scale=SCALE)
    small = set(production.SMALL_TABLES)
    default = api.health(conn, only=["foreign-key-without-index"])
    assert not [f for f in default.findings if f.table in small]
    assert any(n.startswith(f"foreign-key-without-index: {len(small)} foreign key(s) on tables under --min-rows")
               for n in default.notes), default.notes
    every = api.health(conn, only=["foreign-key-without-index"], min_rows=0)
    assert {f.table for f in every.findings} >= small


def test_every_partitioned_fix_runs_and_a_new_partition_gets_the_indexes(db: str,
                                                                         conn: psycopg.Connection[Any]) -> None:
    production.build(db, scale=SCALE)
    report = api.health(conn, only=["invalid-index", "foreign-key-without-index", "overlapping-index"])
    for f in report.findings:
        for statement in f.fix:
            conn.execute(statement)          # autocommit, one statement at a time, as a DBA would run them
    invalid = conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone()
    assert invalid == (0,)
    indexes = {r[0] for r in conn.execute("SELECT relname FROM pg_class WHERE relkind = 'I'")}
    assert {"events_documentId_idx", "events_userId_idx", "notifications_userId_idx",
            "notifications_email_userId_idx"} <= indexes
    assert "events_accountId_idx" not in indexes                 # dropped with its partitions' indexes
    month = production.add_month(conn, months_ahead=3)
    attached = {r[0] for r in conn.execute(
        "SELECT p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_index x ON x.indexrelid = c.oid "
        "WHERE x.indrelid = %s::regclass", (f"app.{month}",))}
    assert {"events_documentId_idx", "events_userId_idx"} <= attached
    assert api.health(conn, only=["invalid-index", "foreign-key-without-index"]).findings == []


def test_clones_of_a_not_valid_check_are_one_finding(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE m (id int, amount int) PARTITION BY RANGE (id)")
    for i in range(4):
        conn.execute(f"CREATE TABLE m_{i} PARTITION OF m FOR VALUES FROM ({i * 10}) TO ({i * 10 + 10})")
    conn.execute("INSERT INTO m SELECT g, g FROM generate_series(0, 39) AS g")
    conn.execute("ALTER TABLE m ADD CONSTRAINT m_amount_check CHECK (amount >= 0) NOT VALID")
    report = api.health(conn, only=["not-valid-constraint"])
    assert [(f.table, f.evidence["constraint"]) for f in report.findings] == [("m", "m_amount_check")]
    conn.execute(report.findings[0].fix[0])
    assert conn.execute("SELECT bool_and(convalidated) FROM pg_constraint WHERE conname = 'm_amount_check'"
                        ).fetchone() == (True,)


@pytest.mark.needs_hypopg
def test_a_finding_names_the_migration_that_built_its_index(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """23.6: the index an overlapping one would be dropped for was built by a pgtune migration: the two are tied."""
    conn.execute('CREATE TABLE orders (id int PRIMARY KEY, "userId" int NOT NULL, "createdAt" timestamptz NOT NULL)')
    conn.execute("INSERT INTO orders SELECT g, g % 2000, now() - g * interval '1 minute' "
                 "FROM generate_series(1, 100000) AS g")
    conn.execute('CREATE INDEX "orders_userId_old" ON orders ("userId")')
    conn.execute("ANALYZE")
    query = 'SELECT id FROM orders WHERE "userId" = 42 ORDER BY "createdAt" DESC LIMIT 20;'
    # Kept by the suggest migration (--keep-redundant; by default its last phase drops it, u2's R6): health's tie.
    result = emitted(conn, tmp_path / "m", query, drop_replaced=False)
    built = [ix for ix in result.indexes.indexes if ix.columns[:2] == ["userId", "createdAt"]]
    assert built, [ix.ddl for ix in result.indexes.indexes]
    migration = result.migration
    assert migration is not None
    api.apply(conn, tmp_path / "m")
    report = api.health(conn, only=["overlapping-index"])
    [f] = report.findings
    assert f.index == "orders_userId_old" and f.evidence["covered_by"] == built[0].name
    assert f.evidence["keeper_built_by"] == migration.id
    assert f"built by pgtune migration {migration.id}" in f.message and "tied" in f.message
    unused = {g.index: g for g in api.health(conn, only=["unused-index"], min_stats_age_s=0).findings}
    assert unused[built[0].name].built_by == migration.id
    assert f"(built by pgtune migration {migration.id})" in unused[built[0].name].message
    # After its rollback the keeper is gone, and so is the finding.
    api.rollback(conn, tmp_path / "m")
    assert api.health(conn, only=["overlapping-index"]).findings == []
