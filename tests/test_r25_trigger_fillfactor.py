"""A table updated by the application's trigger keeps its fillfactor (r25, on 8ddda6c).

8ddda6c (p31) stopped proposing a fillfactor for a table no statement pg_stat_statements counts updates,
to leave out a backfill run before pg_stat_statements_reset(). Under pg_stat_statements.track = top (the
default) a trigger's UPDATE is never counted: a counter row kept by a trigger on every INSERT, the
classic non-HOT churn a fillfactor is for, got none. PostgreSQL 18, 4,000 updates of "Post", 0 HOT, all
left their page: fillfactor 50 at 23d1b6b, none (a note) at 8ddda6c. Before 16 the rule reads the table's
UPDATE statements' columns (no n_tup_newpage_upd), so the test runs on 16 and later.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from pgtune import api


def _flush(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SELECT pg_stat_force_next_flush()")
    time.sleep(0.6)


def test_a_table_a_trigger_updates_still_gets_a_fillfactor(db: str, conn: psycopg.Connection[Any]) -> None:
    if conn.info.server_version < 160000:
        pytest.skip("before 16 a fillfactor is judged on the UPDATE statements' columns, never a trigger's")
    with psycopg.connect(db, autocommit=True) as c:
        c.execute('CREATE TABLE "Post" (id int PRIMARY KEY, "commentCount" int NOT NULL DEFAULT 0, '
                  '"lastCommentAt" timestamptz, title text NOT NULL)')
        c.execute("""INSERT INTO "Post" (id, title) SELECT g, repeat('t', 80) || g FROM generate_series(1, 20000) g""")
        c.execute('CREATE TABLE "Comment" (id int PRIMARY KEY, "postId" int NOT NULL, content text NOT NULL)')
        c.execute("""CREATE FUNCTION count_comment() RETURNS trigger LANGUAGE plpgsql AS $$
                     BEGIN UPDATE "Post" SET "commentCount" = "commentCount" + 1, "lastCommentAt" = now()
                           WHERE id = NEW."postId"; RETURN NEW; END $$""")
        c.execute('CREATE TRIGGER count_comment AFTER INSERT ON "Comment" FOR EACH ROW '
                  'EXECUTE FUNCTION count_comment()')
        c.execute("VACUUM ANALYZE")
        c.execute("SELECT pg_stat_statements_reset()")
        with c.transaction():        # one batch: the rows it updates are not pruned under it
            for i in range(1, 4001):
                c.execute('INSERT INTO "Comment" (id, "postId", content) VALUES (%s, %s, %s)',
                          (i, (i * 7919) % 20000 + 1, "nice"))
        _flush(c)
    report = api.config(conn)
    stats = conn.execute("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'Post'").fetchone()
    proposed = [p for p in report.proposals if p.setting == "fillfactor" and p.table == "Post"]
    assert proposed, (stats, [n for n in report.notes if "Post" in n])
