"""An INVALID unique index health will not rebuild blocked suggest for good (i37, Hoppscotch-shaped trial).

A ``CREATE UNIQUE INDEX CONCURRENTLY`` on UserHistory ("userUid", "executedOn") failed on duplicate keys and left
an INVALID index. suggest said "`pgtune health` proposes the fix, so no twin is proposed" and left out the
statements' index; health would not rebuild it (the duplicates fail the build again) and only said to remove them,
i.e. delete application rows under a key the app's schema never declared. Now: an INVALID index health cannot build
again is no index, suggest prices and proposes the statements' plain index, and health offers its drop. One health
can rebuild (no duplicates now) is still left to health.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.numeric import Int4

from pgtune import api, health
from pgtune.analyze import Advice

from .helpers import suggest
from .hoppscotch import USER_HISTORY

# hoppscotch/hoppscotch's UserHistory (packages/hoppscotch-backend/prisma/schema.prisma): a request a user ran,
# with its JSON, starred or not; 400 users, a few heavy ones; the history list is per user, newest first.
HISTORY = USER_HISTORY + """
INSERT INTO "UserHistory"
SELECT 'h' || g, 'u' || (CASE WHEN g % 3 = 0 THEN g % 5 ELSE g % 400 END),
       CASE WHEN g % 4 = 0 THEN 'GQL' ELSE 'REST' END::"ReqType", jsonb_build_object('url', '/api/' || g % 90),
       '{"statusCode": 200}', g % 17 = 0, timestamptz '2026-01-01' + g * interval '7 seconds'
FROM generate_series(1, 24000) g;     -- under ANALYZE's 30,000-row sample: the same statistics each run
ANALYZE "UserHistory";
"""
LIST = ('SELECT "id", "userUid", "reqType", "request", "isStarred", "executedOn" FROM "UserHistory" '
        'WHERE "userUid" = $1 ORDER BY "executedOn" DESC LIMIT $2')
KEY = '"UserHistory_userUid_executedOn_key"'


def _history(conn: psycopg.Connection[Any], *, duplicates: bool) -> None:
    conn.execute(HISTORY)
    # two requests a client sent twice within the same millisecond: the unique build fails on them
    conn.execute("""UPDATE "UserHistory" SET "userUid" = 'u0', "executedOn" = timestamptz '2026-01-01'
                    WHERE "id" IN ('h1', 'h2')""")
    with contextlib.suppress(psycopg.errors.UniqueViolation):     # the failed build leaves it INVALID
        conn.execute(f'CREATE UNIQUE INDEX CONCURRENTLY {KEY} ON "UserHistory" ("userUid", "executedOn")')
    assert conn.execute(f"SELECT indisvalid FROM pg_index WHERE indexrelid = '{KEY}'::regclass").fetchone() == (False,)
    if not duplicates:
        conn.execute("""DELETE FROM "UserHistory" WHERE "id" = 'h2'""")     # the DBA's part: health can rebuild it
    conn.execute("SELECT pg_stat_statements_reset()")
    with conn.cursor() as cur:      # prepared, as Prisma sends it: five custom plans, then the generic one
        for i in range(60):
            cur.execute(LIST.replace("$1", "%s").replace("$2", "%s"), (f"u{i % 40}", Int4(50)), prepare=True)
            cur.fetchall()


def _on_history(advice: Advice) -> list[list[str]]:
    return [ix.columns for ix in advice.indexes if ix.table == "UserHistory"]


@pytest.mark.needs_hypopg
def test_an_invalid_unique_index_over_duplicates_does_not_count(conn: psycopg.Connection[Any]) -> None:
    _history(conn, duplicates=True)
    advice = suggest(conn)
    # the INVALID index's keys, or a lead of them: what it would have served, as a plain index
    proposed = [ix for ix in advice.indexes if ix.table == "UserHistory" and ix.columns[0] == "userUid"]
    assert proposed, (advice.indexes, advice.hints)
    assert not [ix.ddl for ix in advice.indexes if "UNIQUE" in ix.ddl.upper()], advice.indexes
    conn.execute(f"DROP INDEX {KEY}")       # priced as if it were absent: the advice without it is the same
    assert sorted(_on_history(suggest(conn))) == sorted(_on_history(advice))
    [hint] = [h for h in advice.hints if "UserHistory_userUid_executedOn_key" in h]
    assert "cannot rebuild it" in hint and "same key" in hint and "as if it were absent" in hint, hint
    assert "no twin is proposed" not in hint, hint


@pytest.mark.needs_hypopg
def test_an_invalid_unique_index_health_rebuilds_is_left_to_health(conn: psycopg.Connection[Any]) -> None:
    _history(conn, duplicates=False)
    advice = suggest(conn)
    assert not [c for c in _on_history(advice) if c[0] == "userUid"], advice.indexes    # no twin, no lead of one
    [hint] = [h for h in advice.hints if "UserHistory_userUid_executedOn_key" in h]
    assert "`pgtune health` proposes the fix, so no twin is proposed" in hint, hint


def test_health_offers_to_drop_an_invalid_unique_index_over_duplicates(conn: psycopg.Connection[Any],
                                                                      tmp_path: Path) -> None:
    _history(conn, duplicates=True)
    report = api.health(conn, only=["invalid-index"], emit=api.EmitOptions(directory=tmp_path / "h"))
    [finding] = [f for f in report.findings if f.index == "UserHistory_userUid_executedOn_key"]
    assert "drop it" in finding.message and "same key" in finding.message, finding.message
    assert finding.evidence["or_drop"] == f'DROP INDEX CONCURRENTLY IF EXISTS "public".{KEY}', finding.evidence
    assert report.migration is not None
    [line] = [s for s in report.migration.left_out if "UserHistory_userUid_executedOn_key" in s]
    assert "drop it" in line and "DROP INDEX CONCURRENTLY" in line, line


def test_health_does_not_offer_to_drop_a_unique_key_the_prisma_schema_declares(conn: psycopg.Connection[Any]
                                                                              ) -> None:
    _history(conn, duplicates=True)
    report = health.run(conn, only=["invalid-index"],
                        declared=lambda schema, table: {"UserHistory_userUid_executedOn_key"})
    [finding] = [f for f in report.findings if f.index == "UserHistory_userUid_executedOn_key"]
    assert "drop it" not in finding.message and "declares" in finding.message, finding.message
    assert "or_drop" not in finding.evidence, finding.evidence
