"""An existing index WHERE the key IS NOT NULL serves its foreign key's checks as a full index does (m10, LOW).

health's foreign-key-without-index found it through the rule for an index on
part of a key ("served by an index on their leading column(s), at most 100
rows per value"), and listed the key in that note: an index on every column of
the key, which the checks search by equality (the planner proves the
predicate from ``fk = $1``), is the key's own index, as the full one is, and
health says nothing about a key its own index serves.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune import api

SCHEMA = """
CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL);
CREATE TABLE booking (id int PRIMARY KEY, "userId" int NOT NULL REFERENCES users ON DELETE CASCADE,
                      "reassignById" int REFERENCES users ON DELETE SET NULL, title text NOT NULL);
INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 1000) g;
INSERT INTO booking SELECT g, 1 + g % 1000, CASE WHEN g % 200 = 0 THEN 1 + (g / 200) % 800 END, 'b' || g
FROM generate_series(1, 20000) g;
CREATE INDEX booking_user ON booking ("userId");
CREATE INDEX booking_reassign ON booking ("reassignById") WHERE "reassignById" IS NOT NULL;
ANALYZE;
"""


def test_an_is_not_null_index_serves_its_key_as_a_full_one(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    report = api.health(conn, only=["foreign-key-without-index"], min_rows=0)
    assert report.findings == []
    assert not [n for n in report.notes if "booking_reassign" in n], report.notes
