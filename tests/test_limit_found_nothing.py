"""p12 F4: a LIMITed ORDER BY whose filter no row it walks passes (the filter correlated with the key).

Documenso's reminder job: ``WHERE "nextReminderAt" <= $1 AND "signingStatus" = $2 ORDER BY "nextReminderAt"
LIMIT $3``. Every recipient with a reminder due has signed already, so each call returns no row: the scan of an
index on ("nextReminderAt") walks every row due and keeps none. The planner, reckoning the two filters
independent, has it stop after a few rows (predicted 3,646x, measured 4.7x on p12's database). pg_stat_statements
says no call returned a row: no LIMIT stopped one, and the statement is costed without it.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Options

from .helpers import suggest

REMINDERS = ('SELECT "id", "envelopeId" FROM "Recipient" WHERE ("nextReminderAt" <= $1 AND "signingStatus" = '
             'CAST($2::text AS "SigningStatus")) ORDER BY "nextReminderAt" ASC LIMIT $3 OFFSET $4')


@pytest.mark.needs_hypopg
def test_a_limit_no_call_filled_is_costed_as_none(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("""CREATE TYPE "SigningStatus" AS ENUM ('NOT_SIGNED', 'SIGNED', 'REJECTED')""")
    conn.execute('CREATE TABLE "Recipient" (id serial PRIMARY KEY, "envelopeId" text NOT NULL, '
                 '"nextReminderAt" timestamp(3), "signingStatus" "SigningStatus" NOT NULL DEFAULT \'NOT_SIGNED\')')
    # As on p12's database: one recipient in 40 has a reminder, and every one of them has signed.
    conn.execute('INSERT INTO "Recipient" ("envelopeId", "nextReminderAt", "signingStatus") '
                 "SELECT 'env' || g % 50000, CASE WHEN g % 40 = 0 THEN now() + (g % 10) * interval '1 day' END, "
                 "(CASE WHEN g % 2 = 0 THEN 'SIGNED' WHEN g % 31 = 0 THEN 'REJECTED' ELSE 'NOT_SIGNED' END)"
                 '::"SigningStatus" FROM generate_series(1, 300000) g')
    conn.execute('VACUUM ANALYZE "Recipient"')
    conn.execute("SELECT pg_stat_statements_reset()")
    conn.execute("SELECT pg_qualstats_reset()")
    with psycopg.connect(db, autocommit=True, prepare_threshold=None, cursor_factory=psycopg.RawCursor) as app:
        for day in range(30):
            due = conn.execute("SELECT now() + %s * interval '1 hour'", (day,)).fetchone()
            assert due is not None
            assert app.execute(REMINDERS, (due[0], "NOT_SIGNED", 100, 0)).fetchall() == []
    advice = suggest(conn, options=Options(min_rows=100))
    st = next(s for s in advice.statements if '"nextReminderAt" <=' in s.query)
    limit = {p.param: p for p in st.params}["$3"]
    assert (limit.value, str(limit.source)) == (None, "rows"), limit
    assert "no call returned a row" in limit.use
    # Costed with LIMIT 20 (pg_stat_statements' 0 rows read as "not counted"): 3,227x, the walk stopping after
    # 40 rows. Without the LIMIT the index on ("nextReminderAt") is 20.9x, and built it is 38 -> 2.2 ms (17x) warm.
    assert st.cost_before is not None and st.cost_after is not None and st.indexes
    assert st.cost_before / st.cost_after < 100, (st.indexes, st.cost_before, st.cost_after)
