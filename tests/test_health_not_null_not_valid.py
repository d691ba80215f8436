"""PostgreSQL 18 keeps NOT NULL as a constraint row and lets it be added NOT VALID: health reports it as it does a
NOT VALID CHECK, and its fix validates it (SHARE UPDATE EXCLUSIVE: reads and writes go on).

Found on an Inbox-Zero-shaped database on PostgreSQL 18 (session 26, p17): ``"User".name`` carried
``NOT NULL name NOT VALID`` over 13 old rows holding NULL; pg_attribute.attnotnull reads true all the same, and
health said nothing. Before 18 there is no such constraint and the test skips.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune import api


def test_a_not_valid_not_null_is_reported_and_its_fix_validates_it(conn: psycopg.Connection[Any]) -> None:
    if conn.info.server_version < 180000:
        pytest.skip("NOT NULL constraints NOT VALID are PostgreSQL 18's")
    conn.execute('CREATE TABLE "User" (id int PRIMARY KEY, name text)')
    conn.execute('INSERT INTO "User" SELECT g, CASE WHEN g % 50 = 0 THEN NULL ELSE \'u\' || g END '
                 'FROM generate_series(1, 1000) g')
    conn.execute('ALTER TABLE "User" ADD CONSTRAINT "User_name_nn" NOT NULL name NOT VALID')
    [finding] = [f for f in api.health(conn, only=["not-valid-constraint"]).findings]
    assert finding.table == "User" and "NOT NULL constraint User_name_nn is NOT VALID" in finding.message, finding
    assert finding.fix == ['ALTER TABLE "public"."User" VALIDATE CONSTRAINT "User_name_nn"']
    with pytest.raises(psycopg.errors.NotNullViolation):      # old rows break it: the DBA fixes them first
        conn.execute(finding.fix[0])
    conn.execute('UPDATE "User" SET name = \'?\' WHERE name IS NULL')
    conn.execute(finding.fix[0])
    assert not api.health(conn, only=["not-valid-constraint"]).findings
