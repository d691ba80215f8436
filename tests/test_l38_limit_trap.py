"""A user's latest N rows get the composite, not an index on the sort column alone (l38, the LIMIT trap).

Hoppscotch's history list through Prisma (``findMany({ where: { userUid }, orderBy: { executedOn: 'desc' },
take })``): ``WHERE "userUid" = $1 ORDER BY "executedOn" DESC LIMIT $2``. suggest proposed ("userUid") and
("executedOn"): for a heavy user the planner prices the backward scan of ("executedOn") cheapest, expecting the
user's rows spread evenly through time so that it stops after a few. For a user with few rows, or none, the scan
reads the whole index, and every value outside the most common ones is planned alike. A DBA proposes
("userUid", "executedOn" DESC): the equality first, the sort after it, good for every user.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.types.numeric import Int4

from pgtune.analyze import Advice

from .helpers import suggest
from .hoppscotch import USER_HISTORY

# hoppscotch/hoppscotch's UserHistory (packages/hoppscotch-backend/prisma/schema.prisma), append-only: rows come
# in executedOn order over three years; five heavy users hold half of them, "gone" 2,000 from 2023 only, 1,200 light
# users 1-20 rows each.
HISTORY = USER_HISTORY + """
INSERT INTO "UserHistory"
SELECT 'h' || row_number() OVER (ORDER BY at), "userUid", CASE WHEN n % 4 = 0 THEN 'GQL' ELSE 'REST' END::"ReqType",
       jsonb_build_object('url', '/api/' || n % 90), '{"statusCode": 200}', n % 17 = 0, at
FROM (SELECT 'heavy' || g % 5 AS "userUid", g AS n,
             timestamptz '2023-01-01' + (g * 7919 % 17000) * interval '93 minutes' AS at
      FROM generate_series(1, 15000) g
      UNION ALL
      SELECT 'gone', g, timestamptz '2023-01-01' + (g * 7919 % 3400) * interval '93 minutes'
      FROM generate_series(1, 2000) g
      UNION ALL
      SELECT 'light' || u, u * 20 + k,
             timestamptz '2023-01-01' + ((u * 104729 + k * 7907) % 17000) * interval '93 minutes'
      FROM generate_series(1, 1200) u, generate_series(1, 1 + u % 20) k) r
ORDER BY at;     -- 29,600 rows: under ANALYZE's 30,000-row sample, the same statistics each run
ANALYZE "UserHistory";
"""
FEED = 'SELECT "id", "userUid", "executedOn" FROM "UserHistory" ORDER BY "executedOn" DESC LIMIT %s'
LIST = ('SELECT "id", "userUid", "reqType", "request", "isStarred", "executedOn" FROM "UserHistory" '
        'WHERE "userUid" = $1 ORDER BY "executedOn" DESC LIMIT $2')


def _on_history(advice: Advice) -> list[tuple[list[str], list[bool]]]:
    return [(ix.columns, ix.descending) for ix in advice.indexes if ix.table == "UserHistory"]


def _workload(conn: psycopg.Connection[Any], db: str) -> None:
    """The history list as a pool of Prisma connections runs it: each prepares the statement (five custom plans,
    then the generic one); the heavy users are the active ones, three calls of four."""
    conn.execute("SELECT pg_stat_statements_reset()")
    for c in range(8):
        with psycopg.connect(db, autocommit=True) as app, app.cursor() as cur:
            for i in range(25):
                user = f"light{(c * 25 + i) * 37 % 1200 + 1}" if i % 4 == 3 else f"heavy{(i + c) % 5}"
                cur.execute(LIST.replace("$1", "%s").replace("$2", "%s"), (user, Int4(20)), prepare=True)
                cur.fetchall()


@pytest.mark.needs_hypopg
def test_latest_rows_of_a_user_get_the_composite(conn: psycopg.Connection[Any], db: str) -> None:
    conn.execute(HISTORY)
    _workload(conn, db)
    advice = suggest(conn)
    # Before: ("userUid") and ("executedOn"). With them, "gone" (2,000 rows, all of 2023) read 678 buffers through
    # the backward scan of ("executedOn") the planner priced at 11.4 (2.1 ms); the composite reads 3 (0.03 ms).
    assert (["userUid", "executedOn"], [False, True]) in _on_history(advice), advice.indexes
    assert not [c for c, _ in _on_history(advice) if c[0] == "executedOn"], advice.indexes


@pytest.mark.needs_hypopg
def test_a_feed_without_the_filter_keeps_the_sort_index(conn: psycopg.Connection[Any], db: str) -> None:
    """The index on the sort column alone is still proposed where a statement reads it without the equality (a rule
    that dropped every sort-only index of a LIMITed statement fails here)."""
    conn.execute(HISTORY)
    _workload(conn, db)
    for _ in range(50):
        conn.execute(FEED, (Int4(20),)).fetchall()
    assert [c for c, _ in _on_history(suggest(conn)) if c[0] == "executedOn"]
