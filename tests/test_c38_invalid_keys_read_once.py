"""health read an INVALID unique index's table for duplicate keys twice (c38, a review leftover of i37).

The invalid-index check grouped the table's rows by the index's keys to word its finding (health/duplicate_keys.py:
drop_offer), and the migration (--emit, or the fix list without it) grouped them again to decide whether to rebuild
it (left_out): two reads of a table that may be large, each up to CHECK_TIMEOUT. The check's answer now rides in
its finding, and the table is read once per index.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import api


def _key_reads(conn: psycopg.Connection[Any], table: str) -> int:
    """The groupings of ``table``'s rows by an index's keys that ran (pg_stat_statements: one entry per shape)."""
    row = conn.execute("SELECT coalesce(sum(calls), 0)::int FROM pg_stat_statements WHERE query LIKE %s "
                       "AND query LIKE '%%GROUP BY%%HAVING count(*)%%'", (f"%{table}%",)).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("emit", [True, False], ids=["emit", "fix-list"])
def test_an_invalid_unique_index_table_is_read_once(conn: psycopg.Connection[Any], tmp_path: Path,
                                                    emit: bool) -> None:
    conn.execute("CREATE TABLE members (id serial PRIMARY KEY, email text)")
    conn.execute("INSERT INTO members (email) SELECT 'm' || g % 900 || '@x.io' FROM generate_series(1, 1000) g")
    with contextlib.suppress(psycopg.errors.UniqueViolation):      # the failed build leaves it INVALID
        conn.execute("CREATE UNIQUE INDEX CONCURRENTLY members_email_key ON members (email)")
    conn.execute("SELECT pg_stat_statements_reset()")
    report = api.health(conn, only=["invalid-index"],
                        emit=api.EmitOptions(directory=tmp_path / "h") if emit else None)
    # Without the fix: 2 (the check's drop offer, then the migration's left_out).
    assert _key_reads(conn, "members") == 1
    # The one answer serves both: the finding offers the drop, the migration leaves the index out for it.
    [finding] = [f for f in report.findings if f.index == "members_email_key"]
    assert "same key" in finding.message and "or_drop" in finding.evidence, finding
    why = report.migration.left_out if report.migration is not None else report.not_fixed
    assert any("members_email_key" in s and "same key" in s and "drop it" in s for s in why), why
    assert "keys" not in report.as_dict()["findings"][0], report.as_dict()["findings"][0]     # not in the JSON
