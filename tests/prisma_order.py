"""A Prisma-managed "Order" table read by health with --prisma-schema: the setup the Prisma advice tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from pgtune import api
from pgtune.health.model import HealthReport

from .test_layouts import PRISMA_LEDGER

_MODEL = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Order {
  id     String   @id
  userId String
  date   DateTime
%s}
"""

_TABLE = """
CREATE TABLE "Order" (id text PRIMARY KEY, "userId" text NOT NULL, date timestamp(3) NOT NULL);
INSERT INTO "Order" SELECT 'o' || g, 'u' || (g % 500), now() - g * interval '1 minute' FROM generate_series(1, 5000) g;
"""


def order_health(conn: psycopg.Connection[Any], tmp_path: Path, declared: list[str], indexes: list[tuple[str, str]],
                 only: list[str]) -> tuple[HealthReport, api.PrismaOptions]:
    """Health's ``only`` checks on "Order" (5,000 rows of 500 users; Prisma's ledger present) with ``indexes``
    (name, key columns), made in that order, and a schema.prisma declaring one ``@@index([…])`` per ``declared``;
    the report and the --prisma-schema options it was read with."""
    conn.execute(PRISMA_LEDGER)
    conn.execute(_TABLE)
    for name, keys in indexes:
        conn.execute(sql.SQL("CREATE INDEX {} ON \"Order\" ({})").format(
            sql.Identifier(name), sql.SQL(", ").join(sql.Identifier(k) for k in keys.split(", "))))
    conn.execute('ANALYZE "Order"')
    schema = tmp_path / "schema.prisma"
    lines = "".join(f"  @@index([{keys}])\n" for keys in declared)
    schema.write_text(_MODEL % ("\n" + lines if lines else ""))
    prisma = api.PrismaOptions(schema=schema)
    return api.health(conn, only=only, min_stats_age_s=0, prisma=prisma), prisma
