"""p31 (a Civitai-shaped database on PostgreSQL 18): a one-off backfill is no reason for a fillfactor.

The comments table is only ever inserted into by the application. Once, before the application ran, a data
migration backfilled "parentId" on a fifth of its rows (an UPDATE of a column no index holds, on full pages:
6,000 updates, none HOT, all to a new page). pg_stat_statements was reset after it, so it holds the application's
statements only, none of them an UPDATE of comments. On PostgreSQL 16+ `pgtune config` judged the table by
pg_stat_user_tables' counters alone (n_tup_newpage_upd) and proposed fillfactor 50 for it, and a VACUUM FULL to
apply it to the existing pages: half of every new page left empty on an insert-only table, and an ACCESS EXCLUSIVE
rewrite. Before 16 the same rule already asked pg_stat_statements for the table's UPDATE statements.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

from pgtune import api


def _flush(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SELECT pg_stat_force_next_flush()")
    time.sleep(0.6)


def _load(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as c:
        c.execute('CREATE TABLE "Comment" (id int PRIMARY KEY, "modelId" int NOT NULL, "parentId" int, '
                  'content text NOT NULL, "createdAt" timestamp(3) NOT NULL DEFAULT now())')
        c.execute('CREATE INDEX "Comment_modelId_idx" ON "Comment" ("modelId")')
        c.execute('INSERT INTO "Comment" (id, "modelId", content) '
                  "SELECT g, g % 500, 'comment ' || g FROM generate_series(1, 20000) g")
        # the backfill: once, before the application's statements are counted
        c.execute('UPDATE "Comment" SET "parentId" = id - 1 WHERE id % 5 = 0')
        _flush(c)


def _application(db: str, update: bool) -> None:
    with psycopg.connect(db, autocommit=True) as c:
        for i in range(20001, 20201):
            c.execute('INSERT INTO "Comment" (id, "modelId", content) VALUES (%s, %s, %s)', (i, i % 500, "nice"))
            c.execute('SELECT id, content FROM "Comment" WHERE "modelId" = %s ORDER BY "createdAt" DESC LIMIT 20',
                      (i % 500,))
        if update:
            c.execute('UPDATE "Comment" SET "parentId" = id - 1 WHERE id % 5 = 1')
        _flush(c)


def _fillfactor(conn: psycopg.Connection[Any]) -> tuple[list[Any], list[str]]:
    report = api.config(conn)
    return [p for p in report.proposals if p.setting == "fillfactor" and p.table == "Comment"], report.notes


def test_a_backfill_before_the_statements_counts_began_gets_no_fillfactor(
        db: str, conn: psycopg.Connection[Any]) -> None:
    _load(db)
    conn.execute("SELECT pg_stat_statements_reset()")
    _application(db, update=False)
    stats = conn.execute('SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = \'Comment\'')
    updates, hot = stats.fetchone() or (0, 0)
    assert updates == 4000 and hot < 2000       # not vacuous: the counters hold the backfill's cold updates
    proposed, notes = _fillfactor(conn)
    assert not proposed, [(p.value, p.why) for p in proposed]
    if conn.info.server_version >= 160000:
        assert any("fillfactor" in n and "Comment" in n and "--window" in n for n in notes), notes


def test_the_applications_own_updates_still_get_one(db: str, conn: psycopg.Connection[Any]) -> None:
    """The same table, the UPDATE run by the application after the reset: pg_stat_statements holds it."""
    _load(db)
    conn.execute("SELECT pg_stat_statements_reset()")
    _application(db, update=True)
    proposed, _ = _fillfactor(conn)
    assert len(proposed) == 1, proposed
