"""An ``IN`` list pg_qualstats kept whole but with its cast cut is valued element by element (p18).

Cal.com loads a team's bookings with ``"eventTypeId" IN ($5, …, $18)`` (Prisma's
``findMany({where: {eventTypeId: {in: ids}}})``); pg_qualstats folds the list into
one array constant and keeps its first 79 bytes: ``'{1352,910,…,17754}'::intege``.
The array is whole, its ``[]`` is gone, so the constant read as a scalar and
every position of the list was valued with the whole array text: each plan of
the statement failed on the server ("invalid input syntax for type integer"),
5 ERROR lines a suggest on p18's database.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.types.numeric import Int4

from pgtune.analyze import Options

from .helpers import suggest

IDS = 14                # 14 ids of 4 digits: the literal fits in 79 bytes, "::integer[]" after it does not
TEAM_BOOKINGS = ('SELECT "public"."Booking"."id", "public"."Booking"."startTime" FROM "public"."Booking" '
                 'WHERE ("public"."Booking"."eventTypeId" IN ({ids}) AND "public"."Booking"."startTime" >= $1) '
                 'OFFSET $2')


@pytest.mark.needs_qualstats
def test_a_whole_array_with_its_cast_cut_values_each_position(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute('CREATE TABLE "Booking" (id serial PRIMARY KEY, "eventTypeId" int, "startTime" timestamp(3) NOT NULL)')
    conn.execute('INSERT INTO "Booking" ("eventTypeId", "startTime") SELECT 1000 + g % 9000, '
                 "timestamp '2025-01-01' + g * interval '1 minute' FROM generate_series(1, 30000) g")
    conn.execute('ANALYZE "Booking"')
    conn.execute("SELECT pg_stat_statements_reset(), pg_qualstats_reset()")
    text = TEAM_BOOKINGS.format(ids=", ".join(f"${n}" for n in range(3, 3 + IDS)))
    with psycopg.connect(db, autocommit=True, prepare_threshold=None, cursor_factory=psycopg.RawCursor) as app:
        for k in range(30):
            ids = [Int4(1000 + (k * 37 + i * 611) % 9000) for i in range(IDS)]
            app.execute(text, ["2025-01-10", Int4(0), *ids]).fetchall()
    kept = conn.execute("SELECT constvalue FROM pg_qualstats() WHERE constvalue LIKE '''{%' LIMIT 1").fetchone()
    assert kept is not None and not kept[0].endswith("[]") and "}'::int" in kept[0], kept
    advice = suggest(conn, options=Options(min_rows=100))
    [st] = [s for s in advice.statements if '"eventTypeId" IN' in s.query]
    listed = [f"${n}" for n in range(3, 3 + IDS)]
    assert st.scenarios
    for scenario in st.scenarios:
        values = [scenario["values"].get(p) for p in listed]
        assert all(v is not None and v.isdigit() for v in values), values   # was the whole '{…}' at each
    assert st.cost_before is not None
