"""A covering index whose keys a Prisma model already declares gets no schema line (u12, Cal.com).

On a Cal.com-shaped database, `pgtune suggest --prisma-schema` proposed
``"Attendee" (email) INCLUDE ("bookingId")``, the covering twin of Prisma's
``Attendee_email_idx`` (``@@index([email])`` in model Attendee), and printed
``@@index([email], map: "…")`` for it. Prisma cannot say INCLUDE, so that line
declares a second index with exactly the keys of the one the model already
has: only more writes, and nothing the twin was proposed for. The advice now
gives no line for it, names the declared index, and says what the choice is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.cli import cli

from .helpers import all_visible, steady_state

SCHEMA = """
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Booking {
  id        Int        @id @default(autoincrement())
  uid       String     @unique
  attendees Attendee[]
}

model Attendee {
  id        Int      @id @default(autoincrement())
  email     String
  name      String
  booking   Booking? @relation(fields: [bookingId], references: [id], onDelete: Cascade)
  bookingId Int?

  @@index([email])
  @@index([bookingId])
}
"""

TABLES = """
CREATE TABLE "Booking" ("id" SERIAL NOT NULL, "uid" TEXT NOT NULL, CONSTRAINT "Booking_pkey" PRIMARY KEY ("id"));
CREATE UNIQUE INDEX "Booking_uid_key" ON "Booking"("uid");
CREATE TABLE "Attendee" ("id" SERIAL NOT NULL, "email" TEXT NOT NULL, "name" TEXT NOT NULL,
    "bookingId" INTEGER, CONSTRAINT "Attendee_pkey" PRIMARY KEY ("id"));
CREATE INDEX "Attendee_email_idx" ON "Attendee"("email");
CREATE INDEX "Attendee_bookingId_idx" ON "Attendee"("bookingId");
ALTER TABLE "Attendee" ADD CONSTRAINT "Attendee_bookingId_fkey" FOREIGN KEY ("bookingId") REFERENCES "Booking"("id")
    ON DELETE CASCADE ON UPDATE CASCADE;
INSERT INTO "Booking" ("uid") SELECT md5(g::text) FROM generate_series(1, 40000) g;
INSERT INTO "Attendee" ("email", "name", "bookingId")
SELECT 'guest' || (g % 200) || '@mail.com', 'Guest ' || g || repeat('x', 60), 1 + g % 40000
FROM generate_series(1, 80000) g;
"""

# Cal.com's "bookings where I am an attendee": Prisma's relation filter reads the attendee rows' bookingId.
BY_ATTENDEE = ('SELECT "t1"."bookingId" FROM "public"."Attendee" AS "t1" '
               'WHERE ("t1"."email" = $1 AND "t1"."bookingId" IS NOT NULL)')


def _workload(conn: psycopg.Connection[Any]) -> None:
    conn.execute(TABLES)
    all_visible(conn, "Attendee")
    steady_state(conn)
    with psycopg.ClientCursor(conn) as cur:
        for i in range(40):
            cur.execute("PREPARE by_attendee AS " + BY_ATTENDEE if i == 0 else "SELECT 1")
            cur.execute("EXECUTE by_attendee (%s)", (f"guest{i % 200}@mail.com",))
            cur.fetchall()


@pytest.mark.needs_hypopg
def test_no_line_duplicates_an_index_the_model_declares(conn: psycopg.Connection[Any], db: str,
                                                        tmp_path: Path) -> None:
    _workload(conn)
    path = tmp_path / "schema.prisma"
    path.write_text(SCHEMA)
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--prisma-schema", str(path), "--format", "json",
                                   "--no-constraints"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    [twin] = [ix for ix in data["indexes"] if ix["table"] == "Attendee"]
    assert (twin["columns"], twin["include"]) == (["email"], ["bookingId"]), twin
    assert twin["redundant"] == ["Attendee_email_idx"], twin
    [p] = [p for p in data["prisma"]["proposals"] if p["name"] == twin["name"]]
    assert p["line"] is None, p          # was '@@index([email], map: "…") // without INCLUDE (bookingId)…'
    assert p["fit"] == "sql-only"
    assert "Attendee_email_idx" in p["note"] and "@@index([email])" in p["note"], p["note"]
    assert not p["written"]


def test_a_line_with_other_keys_is_still_given(tmp_path: Path) -> None:
    """Only the declared keys themselves: a covering index with one more key keeps its line (and caveat)."""
    from pgtune.prisma import schema as prisma_schema
    from pgtune.prisma.advice import Fit, index_proposal

    schema = prisma_schema.parse(SCHEMA)
    p = index_proposal(schema, "public", "Attendee", "Attendee_email_name_incl_bookingId_pgtune_idx",
                       ["email", "name"], include=["bookingId"])
    assert p.line is not None and p.line.startswith('@@index([email, name], map: "Attendee_email_name_incl')
    assert p.fit == Fit.SQL_ONLY
    desc = index_proposal(schema, "public", "Attendee", "Attendee_email_desc_incl_bookingId_pgtune_idx",
                          ["email"], descending=[True], include=["bookingId"])
    assert desc.line is not None and desc.line.startswith("@@index([email(sort: Desc)]")
