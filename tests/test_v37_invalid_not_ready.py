"""health said every INVALID index is maintained by writes ("writes maintain it, no query uses it"); a unique
CREATE INDEX CONCURRENTLY that met duplicate keys fails before PostgreSQL marks the index ready
(pg_index.indisready false), and writes skip it: the evidence was wrong (v37, Hoppscotch-shaped UserHistory,
a failed unique build on ("userUid", "executedOn")). The finding now says which it is."""

from __future__ import annotations

import contextlib
from typing import Any

import psycopg

from pgtune import api


def _finding(conn: psycopg.Connection[Any], index: str) -> Any:
    report = api.health(conn, only=["invalid-index"])
    [finding] = [f for f in report.findings if f.index == index]
    return finding


def test_a_unique_build_stopped_by_duplicates_is_not_said_to_be_maintained(conn: psycopg.Connection[Any]) -> None:
    conn.execute('CREATE TABLE "UserHistory" (id serial PRIMARY KEY, "userUid" text, "executedOn" timestamptz)')
    conn.execute("""INSERT INTO "UserHistory" ("userUid", "executedOn")
                    SELECT 'u' || (i % 10), timestamptz '2026-01-01' + (i % 50) * interval '1 minute'
                    FROM generate_series(1, 2000) i""")
    with contextlib.suppress(psycopg.errors.UniqueViolation):     # the failed build leaves it behind
        conn.execute('CREATE UNIQUE INDEX CONCURRENTLY "UserHistory_key" ON "UserHistory" ("userUid", "executedOn")')
    assert conn.execute("SELECT indisvalid, indisready FROM pg_index WHERE indexrelid = '\"UserHistory_key\"'::regclass"
                        ).fetchone() == (False, False)
    finding = _finding(conn, "UserHistory_key")
    assert "writes maintain it" not in finding.message, finding.message
    assert "writes do not maintain it" in finding.message, finding.message
    assert finding.evidence["ready"] is False


def test_an_invalid_index_writes_maintain_is_said_to_be(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE notes (id serial PRIMARY KEY, author text)")
    conn.execute("INSERT INTO notes (author) SELECT 'a' || (i % 30) FROM generate_series(1, 500) i")
    conn.execute("CREATE INDEX notes_author_idx ON notes (author)")
    # The state a concurrent build cancelled in its validation phase leaves: ready, not valid.
    conn.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'notes_author_idx'::regclass")
    finding = _finding(conn, "notes_author_idx")
    assert "writes maintain it, no query uses it" in finding.message, finding.message
    assert finding.evidence["ready"] is True
