"""Temporary tables in the workload are their own kind of skip (issue 24.8), never ``cannot-plan``."""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.analyze import SkipKind
from pgtune.capture import read_queries_file

from .helpers import run, shop, suggest

STAGE = 'CREATE TEMP TABLE stage (id bigint, "userId" bigint)'
ONLY_TEMP = "SELECT count(*) FROM stage WHERE id = %s"
JOINED = 'SELECT o.id FROM "order" o JOIN stage s ON s."userId" = o."userId" WHERE o.status = %s'


def test_statements_on_a_session_temporary_table_are_skipped_as_temporary(db: str,
                                                                          conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    with psycopg.connect(db, autocommit=True) as app:      # the application's session: gone before suggest
        app.execute(STAGE)
        app.execute('INSERT INTO stage SELECT g, g FROM generate_series(1, 2000) AS g')
        run(app, ONLY_TEMP, [(1,), (2,)])
        run(app, JOINED, [("pending",)])
    advice = suggest(conn)
    kinds = {s.query.split()[0] + (" join" if "JOIN" in s.query else ""): s.kind
             for s in advice.skipped if "stage" in s.query}
    # The INSERT that fills it, the statement on it alone, and its join with a permanent table.
    assert kinds == {"INSERT": SkipKind.TEMPORARY, "SELECT": SkipKind.TEMPORARY,
                     "SELECT join": SkipKind.TEMPORARY}, advice.skipped
    reasons = [s.reason for s in advice.skipped if s.kind == SkipKind.TEMPORARY]
    assert all("temporary table stage" in r for r in reasons), reasons
    assert not [s for s in advice.skipped if s.kind == SkipKind.CANNOT_PLAN]


def test_a_queries_file_that_creates_a_temporary_table(conn: psycopg.Connection[Any]) -> None:
    shop(conn)
    text = f"{STAGE};\n{JOINED.replace('%s', chr(39) + 'paid' + chr(39))};\nSELECT * FROM pg_temp.stage WHERE id = 1;"
    advice = suggest(conn, read_queries_file(text))
    assert [s.kind for s in advice.skipped if s.kind != SkipKind.UTILITY] == [SkipKind.TEMPORARY] * 2, advice.skipped
