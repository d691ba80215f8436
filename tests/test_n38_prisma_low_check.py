"""Prisma's line for a low-confidence CHECK says it is for review only, as the table does (n38).

On a Cal.com-shaped database, suggest listed ``Booking_endTime_startTime_order`` ("endTime" >= "startTime") as low
confidence: "listed for review only, never written to a migration". Its --prisma-schema line said, as for a
high-confidence check, "add pgtune's ADD CONSTRAINT … NOT VALID and, in a later migration, VALIDATE CONSTRAINT":
advice to add, by hand, a check the data alone cannot show the application never breaks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli

SCHEMA = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Booking {
  id        Int      @id
  title     String
  length    Int
  startTime DateTime
  endTime   DateTime
}
"""


def test_low_confidence_check_is_for_review_in_prismas_lines(db: str, conn: psycopg.Connection[Any],
                                                             tmp_path: Path) -> None:
    conn.execute('CREATE TABLE "Booking" (id int PRIMARY KEY, title text NOT NULL, length int NOT NULL, '
                 '"startTime" timestamp(3) NOT NULL, "endTime" timestamp(3) NOT NULL)')
    conn.execute("""INSERT INTO "Booking" SELECT g, 'b' || g, 15 * (1 + g % 4), t, t + interval '30 minutes'
                    FROM generate_series(1, 20000) g,
                         LATERAL (SELECT timestamp '2026-01-01' + g * interval '1 hour') s(t)""")
    conn.execute('ANALYZE "Booking"')
    queries = tmp_path / "q.sql"
    queries.write_text('SELECT id FROM "Booking" WHERE id = 42;\n')
    schema = tmp_path / "schema.prisma"
    schema.write_text(SCHEMA)
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(queries), "--format", "json",
                                      "--prisma-schema", str(schema)])
    assert result.exit_code == 0, result.output
    advice = json.loads(result.stdout)
    confidence = {c["name"]: c["confidence"] for c in advice["constraints"]}
    notes = {p["name"]: p["note"] for p in advice["prisma"]["proposals"] if p["name"] in confidence}
    assert confidence.get("Booking_endTime_startTime_order") == "low", confidence
    assert notes["Booking_endTime_startTime_order"].startswith("low confidence, for review only"), notes
    high = [n for n, c in confidence.items() if c == "high"]
    assert high and all("low confidence" not in notes[n] for n in high), (confidence, notes)
