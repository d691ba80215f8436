"""Small builders shared by the integration tests."""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.capture import reset_counters

SHOP_SCHEMA = """
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, "createdAt" timestamptz NOT NULL);
CREATE TABLE "order" (
    id          bigint PRIMARY KEY,
    "userId"    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status      text NOT NULL,
    total       numeric NOT NULL,
    "createdAt" timestamptz NOT NULL
);
INSERT INTO users SELECT g, 'u' || g || '@example.com', now() - g * interval '1 hour'
FROM generate_series(1, 5000) AS g;
INSERT INTO "order" SELECT g, 1 + (g * 7919) % 5000,
       CASE WHEN g % 500 = 0 THEN 'pending' ELSE 'paid' END, g % 1000, now() - g * interval '1 minute'
FROM generate_series(1, 60000) AS g;
ANALYZE;
"""


def shop(conn: psycopg.Connection[Any]) -> None:
    """Prisma-style shop: a table called "order", camelCase columns, an unindexed FK."""
    conn.execute(SHOP_SCHEMA)
    steady_state(conn)


def steady_state(conn: psycopg.Connection[Any]) -> None:
    """Count statements and table writes from now on, not the fixture's bulk load."""
    reset_counters(conn)


def run(conn: psycopg.Connection[Any], query: str, values: list[tuple[Any, ...]] | None = None,
        times: int = 10) -> None:
    """Run ``query`` so that pg_stat_statements records it."""
    for i in range(times):
        params = values[i % len(values)] if values else None
        conn.execute(query, params).fetchall()


ORDERS_BY_USER = 'SELECT id, total FROM "order" WHERE "userId" = %s ORDER BY "createdAt" DESC LIMIT 20'
