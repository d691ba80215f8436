"""p15 (Rallly-shaped, a schema per tenant): a Prisma model without @@schema is the connection's schema's.

The app's Prisma URL names one tenant's schema (`?schema=t_a`); another tenant's schema t_b holds the same
tables with its own workload. Every model without @@schema matched a table of that name in any schema, so
t_b's proposals were written into model Poll (`--write`), for `prisma migrate dev` to build on t_a's tables
where t_a's statements do not use them (one a reordered twin of t_a's own proposal).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.analyze import Options

SCHEMA = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Poll {
  id        String   @id
  title     String
  userId    String   @map("user_id")
  createdAt DateTime @map("created_at")

  @@map("polls")
}
"""
TENANT = """
CREATE SCHEMA {s};
CREATE TABLE {s}.polls (id text PRIMARY KEY, title text NOT NULL, user_id text NOT NULL,
  created_at timestamp(3) NOT NULL);
INSERT INTO {s}.polls SELECT 'p' || g, 'Poll ' || g, 'u' || (g % 2000), now() - g * interval '1 minute'
  FROM generate_series(1, 40000) g;
ANALYZE {s}.polls;
"""


@pytest.mark.needs_hypopg
def test_another_tenants_proposal_is_not_written_into_the_model(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(TENANT.format(s="t_a") + TENANT.format(s="t_b"))
    conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(db, autocommit=True, prepare_threshold=None, cursor_factory=psycopg.RawCursor) as app:
        for k in range(20):
            app.execute('SELECT "t_a"."polls"."id" FROM "t_a"."polls" WHERE "t_a"."polls"."user_id" = $1 '
                        'ORDER BY "t_a"."polls"."created_at" DESC LIMIT $2', (f"u{k}", 5)).fetchall()
            app.execute('SELECT "t_b"."polls"."id" FROM "t_b"."polls" WHERE "t_b"."polls"."title" = $1 '
                        'LIMIT $2', (f"Poll {k * 13}", 1)).fetchall()
    path = tmp_path / "schema.prisma"
    path.write_text(SCHEMA)
    conn.execute("SET search_path = t_a")          # what the app's ?schema=t_a does (pgtune.connect)
    result = api.suggest(conn, api.SuggestOptions(Options(min_rows=100), constraints=False),
                         prisma=api.PrismaOptions(schema=path, write=True))
    assert {ix.schema for ix in result.indexes.indexes} == {"t_a", "t_b"}, result.indexes.indexes
    assert result.prisma is not None
    by_name = {ix.name: ix for ix in result.indexes.indexes}
    for p in result.prisma.proposals:
        home = by_name[p.name].schema
        assert (p.model == "Poll") == (home == "t_a"), (home, p)
    written = path.read_text()
    assert "@@index([userId" in written                     # t_a's own proposal is written
    assert "@@index([title" not in written                  # t_b's proposal stays out of t_a's model
