"""health's Prisma advice removes a declared index only with a line for the index that replaces it (u12, Cal.com).

On a Cal.com-shaped database, after applying pgtune's migration, `pgtune
health --prisma-schema` said: remove ``@@index([userId])`` from model
Booking, as ``Booking_userId_idx`` is a leading part of pgtune's
``("userId", "startTime", id, "endTime")``. That index was not in the schema.
A user who follows the advice gets, at the next ``prisma migrate dev``, a drop
of ``Booking_userId_idx`` (its line is gone) *and* of pgtune's index (drift):
no index on ``"userId"`` at all, the bookings list back to a second per call,
and every delete of a user scanning Booking for the foreign key. The advice
now says to declare the keeper first, with its line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli

SCHEMA = """
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id       Int       @id @default(autoincrement())
  bookings Booking[]

  @@map(name: "users")
}

model Booking {
  id        Int      @id @default(autoincrement())
  user      User?    @relation(fields: [userId], references: [id], onDelete: Cascade)
  userId    Int?
  startTime DateTime
  endTime   DateTime
%s
  @@index([userId])
}
"""

TABLES = """
CREATE TABLE "users" ("id" SERIAL NOT NULL, CONSTRAINT "users_pkey" PRIMARY KEY ("id"));
CREATE TABLE "Booking" ("id" SERIAL NOT NULL, "userId" INTEGER, "startTime" TIMESTAMP(3) NOT NULL,
    "endTime" TIMESTAMP(3) NOT NULL, CONSTRAINT "Booking_pkey" PRIMARY KEY ("id"));
CREATE INDEX "Booking_userId_idx" ON "Booking"("userId");
ALTER TABLE "Booking" ADD CONSTRAINT "Booking_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id")
    ON DELETE CASCADE ON UPDATE CASCADE;
INSERT INTO "users" SELECT FROM generate_series(1, 100);
INSERT INTO "Booking" ("userId", "startTime", "endTime")
SELECT 1 + g % 100, timestamp '2025-01-01' + g * interval '1 hour', timestamp '2025-01-01' + g * interval '1 hour'
    + interval '30 minutes' FROM generate_series(1, 5000) g;
CREATE INDEX "Booking_userId_startTime_id_endTime_pgtune_idx" ON "Booking" ("userId", "startTime" DESC, id, "endTime");
ANALYZE "Booking";
"""
KEEPER_LINE = ('@@index([userId, startTime(sort: Desc), id, endTime], '
               'map: "Booking_userId_startTime_id_endTime_pgtune_idx")')


def _booking_advice(db: str, path: Path) -> dict[str, Any]:
    out = CliRunner().invoke(cli, ["health", "--dsn", db, "--check", "overlapping-index", "--prisma-schema",
                                   str(path), "--format", "json"])
    assert out.exit_code == 1, out.output
    proposals = {p["name"]: p for p in json.loads(out.stdout)["prisma"]["proposals"]}
    p: dict[str, Any] = proposals["Booking_userId_idx"]
    assert (p["fit"], p["model"], p["attribute"]) == ("remove", "Booking", "@@index([userId])"), p
    return p


def test_the_keeper_the_schema_lacks_is_declared_first(conn: psycopg.Connection[Any], db: str,
                                                       tmp_path: Path) -> None:
    conn.execute(TABLES)
    path = tmp_path / "schema.prisma"
    path.write_text(SCHEMA % "")
    note = _booking_advice(db, path)["note"]
    assert "Booking_userId_startTime_id_endTime_pgtune_idx" in note, note
    assert "drops Booking_userId_startTime_id_endTime_pgtune_idx as drift" in note, note
    assert f"add `{KEEPER_LINE}` to model Booking first" in note, note

    # Declared, the keeper stays through migrate dev: the plain advice.
    path.write_text(SCHEMA % f"  {KEEPER_LINE}\n")
    note = _booking_advice(db, path)["note"]
    assert note == ("remove the line `@@index([userId])` from model Booking in the same change: while the schema "
                    "declares it, the next `prisma migrate dev` builds it again"), note
