"""health's bloated-index on a freshly built unique index of an optional column (Papermark's ``Link.url``,
``String? @unique``, NULL in every row): CREATE UNIQUE INDEX deduplicates nothing, so its NULLs take a tuple
each (8.8 MB on Papermark's 400k links where a plain index on the same column takes 2.7 MB). The forecast
counted them deduplicated and called the fresh index 3.2x bloated, with a REINDEX that rebuilds it as big."""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune import api


def test_fresh_unique_index_on_nulls_is_not_bloated(conn: psycopg.Connection[Any]) -> None:
    conn.execute('CREATE TABLE "Link" (id text PRIMARY KEY, url text, "teamId" text)')
    conn.execute('INSERT INTO "Link" SELECT \'cl\' || lpad(g::text, 10, \'0\'), NULL, \'t\' || g % 50 '
                 'FROM generate_series(1, 200000) AS g')
    conn.execute('CREATE UNIQUE INDEX "Link_url_key" ON "Link" (url)')
    conn.execute('CREATE INDEX "Link_url_idx" ON "Link" (url)')          # the same keys, deduplicated
    conn.execute('ANALYZE "Link"')
    sizes = dict(conn.execute("SELECT relname::text, pg_relation_size(oid) FROM pg_class "
                              "WHERE relname IN ('Link_url_key', 'Link_url_idx')").fetchall())
    assert sizes["Link_url_key"] > 2.5 * sizes["Link_url_idx"]           # what the server built
    assert [f.index for f in api.health(conn, only=["bloated-index"]).findings] == []
