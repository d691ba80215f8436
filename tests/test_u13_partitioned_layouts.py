"""An index on a partitioned table in a migration tool's layout (u13: a Papermark-shaped database, View partitioned
by month): the Prisma and golang-migrate layouts wrote the parent's CREATE INDEX CONCURRENTLY, which PostgreSQL
refuses on a partitioned table ("cannot create index on partitioned table concurrently"), so deploy failed at
the first folder. They now carry pgtune's own recipe: ON ONLY the parent under lock_timeout, each partition's
index CONCURRENTLY alone in its file, then the attaches; run as the tools run them, the index ends valid on
every partition, and golang-migrate's down files remove it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pglast
import psycopg
import pytest

from pgtune import api, plan

from .test_layouts import as_one_query, prisma_deploy


def _events(conn: psycopg.Connection[Any]) -> None:
    conn.execute('CREATE TABLE "View" (id bigint NOT NULL, "documentId" int NOT NULL, "viewedAt" timestamptz NOT NULL,'
                 ' "teamId" int NOT NULL) PARTITION BY RANGE ("viewedAt")')
    conn.execute('CREATE TABLE "View_2026_01" PARTITION OF "View" FOR VALUES FROM (\'2026-01-01\') TO (\'2026-02-01\')')
    conn.execute('CREATE TABLE "View_2026_02" PARTITION OF "View" FOR VALUES FROM (\'2026-02-01\') TO (\'2026-03-01\')')
    conn.execute('CREATE TABLE "View_default" PARTITION OF "View" DEFAULT')
    conn.execute('INSERT INTO "View" SELECT g, g % 4000, timestamptz \'2026-01-01\' + g * interval \'20 seconds\', '
                 "g % 30 FROM generate_series(1, 300000) g")
    conn.execute('ANALYZE "View"')
    conn.execute("SELECT pg_stat_statements_reset()")
    for i in range(200):
        conn.execute('SELECT id, "viewedAt" FROM "View" WHERE "documentId" = %s ORDER BY "viewedAt" DESC LIMIT 10',
                     (i,), prepare=True)


def _valid_everywhere(conn: psycopg.Connection[Any]) -> list[tuple[str, bool]]:
    return conn.execute("SELECT c.relname, x.indisvalid FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
                        "JOIN pg_class t ON t.oid = x.indrelid WHERE t.relname LIKE 'View%%' "
                        "AND c.relname LIKE '%%documentId%%' ORDER BY 1").fetchall()


def _emit(conn: psycopg.Connection[Any], folder: Path, layout: plan.Layout) -> plan.Migration:
    result = api.suggest(conn, api.SuggestOptions(constraints=False),
                         emit=api.EmitOptions(directory=folder, layout=layout, constraints=False))
    assert result.migration is not None
    assert [ix.partitioned for p in result.migration.phases for ix in p.indexes] == [True], (
        result.indexes.indexes, result.indexes.hints, result.indexes.skipped)
    return result.migration


@pytest.mark.needs_hypopg
def test_prisma_layout_builds_a_partitioned_index_as_deploy_runs_it(conn: psycopg.Connection[Any],
                                                                    tmp_path: Path) -> None:
    _events(conn)
    folder = tmp_path / "prisma" / "migrations"
    _emit(conn, folder, plan.Layout.PRISMA)
    texts = [(f / "migration.sql").read_text() for f in sorted(folder.iterdir()) if f.is_dir() and f.name[0].isdigit()]
    assert not any('CONCURRENTLY IF NOT EXISTS "View_documentId' in t for t in texts), texts
    prisma_deploy(conn, folder)
    rows = _valid_everywhere(conn)
    assert len(rows) == 4 and all(valid for _, valid in rows), rows      # the parent's and its 3 partitions'


@pytest.mark.needs_hypopg
def test_golang_migrate_layout_builds_and_removes_a_partitioned_index(conn: psycopg.Connection[Any],
                                                                       tmp_path: Path) -> None:
    _events(conn)
    _emit(conn, tmp_path / "db", plan.Layout.GOLANG_MIGRATE)
    for path in sorted((tmp_path / "db").glob("*.up.sql")):
        text = path.read_text()
        if any(line.startswith("CREATE INDEX CONCURRENTLY") for line in text.splitlines()):
            assert len(pglast.split(text)) == 1, path.name
        as_one_query(conn, text)
    rows = _valid_everywhere(conn)
    assert len(rows) == 4 and all(valid for _, valid in rows), rows
    for path in sorted((tmp_path / "db").glob("*.down.sql"), reverse=True):
        as_one_query(conn, path.read_text())
    assert _valid_everywhere(conn) == []
