"""health --emit built an INVALID unique index again while its table still held the duplicate keys that had
failed its build: apply stopped on "could not create unique index", and the phase's other rebuilds never ran
(p21, Chatwoot-shaped PostgreSQL 18 trial). Such an index is left to the DBA, said in left_out; one whose
duplicates are gone, or whose only equal keys are NULLs, is built again as before."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import psycopg

from pgtune import api


def _invalid_unique(conn: psycopg.Connection[Any], table: str, rows: str) -> None:
    conn.execute(f"CREATE TABLE {table} (id serial PRIMARY KEY, email text)")
    conn.execute(f"INSERT INTO {table} (email) VALUES {rows}")
    with contextlib.suppress(psycopg.errors.UniqueViolation):      # the failed build leaves it INVALID
        conn.execute(f"CREATE UNIQUE INDEX CONCURRENTLY {table}_email_key ON {table} (lower(email))")
    assert conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = %s::regclass",
                        (f"{table}_email_key",)).fetchone() == (False,)


def test_an_invalid_unique_index_over_duplicates_is_left_to_the_dba(conn: psycopg.Connection[Any],
                                                                     tmp_path: Path) -> None:
    _invalid_unique(conn, "contacts", "('a@x.io'), ('A@x.io'), ('b@x.io')")
    _invalid_unique(conn, "leads", "('a@x.io'), ('A@x.io'), (NULL), (NULL)")
    conn.execute("DELETE FROM leads WHERE email = 'A@x.io'")      # the DBA's part; the NULLs never conflict
    report = api.health(conn, only=["invalid-index"], emit=api.EmitOptions(directory=tmp_path / "h"))
    scripts = "".join(p.read_text() for p in sorted((tmp_path / "h").glob("*_up.sql")))
    assert "contacts_email_key" not in scripts, scripts
    assert "leads_email_key" in scripts, scripts
    assert report.migration is not None
    assert any("contacts_email_key" in s and "same key" in s for s in report.migration.left_out), \
        report.migration.left_out
    result = api.apply(conn, tmp_path / "h")
    assert conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'leads_email_key'::regclass"
                        ).fetchone() == (True,), result
