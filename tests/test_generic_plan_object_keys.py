"""The generic-plan review plans Prisma's relationJoins statements (p18, Cal.com-shaped).

With ``relationJoins`` Prisma loads a booking's attendees and event type in one
statement, each row built with ``JSONB_BUILD_OBJECT('id', "t0"."id", …)``, which
pg_stat_statements keeps as ``JSONB_BUILD_OBJECT($7, …)``. The review PREPAREs
the whole text to get its generic plan; the function takes "any", so the server
could not type ``$7`` and refused it ("could not determine data type of parameter"):
two ERROR lines in the server log a suggest, and the review skipped the workload's
costliest statement. The PREPARE now names those ``$n`` text.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Options
from pgtune.analyze.generic_plans import _plans
from pgtune.health.workload_plans import statements_using

from . import calcom_app
from .helpers import suggest


@pytest.mark.needs_hypopg
@pytest.mark.no_qualstats      # no example of the statement as sent: its keys stay $n, as on p18's database
def test_the_generic_plan_of_a_relation_joins_statement_is_planned(db: str, conn: psycopg.Connection[Any]) -> None:
    calcom_app.build(conn)
    conn.execute("SELECT pg_stat_statements_reset()")
    calcom_app.run_as_app(db)
    advice = suggest(conn, options=Options(min_rows=100))
    [st] = [s for s in advice.statements if "Booking_attendees" in s.query]
    assert "JSONB_BUILD_OBJECT($" in st.query and st.cost_before is not None, st.query
    [plans] = _plans(conn, [st])
    assert plans is not None and len(plans) == 1 + len(st.scenarios), plans     # the generic plan, then each


def test_health_reads_the_plan_of_a_relation_joins_statement(db: str, conn: psycopg.Connection[Any]) -> None:
    """Before health drops an index it plans the workload's statements: this one failed on the server the same way,
    one ERROR line a health run, and health could not see that its plan uses Attendee_bookingId_idx."""
    calcom_app.build(conn)
    conn.execute("SELECT pg_stat_statements_reset()")
    calcom_app.run_as_app(db)
    used = statements_using(conn, {("public", "Attendee_bookingId_idx")})
    assert any("Booking_attendees" in u.statement.query for u in used), [u.statement.query[:60] for u in used]
