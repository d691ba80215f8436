"""Prisma's relationJoins statements are planned and timed with values (p18, Cal.com-shaped).

With ``relationJoins`` Prisma loads a booking's attendees and event type in one
statement: ``LEFT JOIN LATERAL (…) ON true`` per relation, each row built with
``JSONB_BUILD_OBJECT('id', …)``. pg_stat_statements normalizes ``true`` and the
keys to ``$n``. The ``ON $12`` had no rule, so the statement (the costliest of
p18's workload: 44% of its time) was planned generic there, and neither emit
nor verify --measure timed it ("no value for $12, $16"); a NULL key would have
made the timed run fail ("key must not be null"). Now ON $n is true and each
key a text of its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from . import calcom_app
from .helpers import emitted


@pytest.mark.needs_hypopg
@pytest.mark.no_qualstats      # no example of the statement as sent: its ON and keys get values by rule alone
def test_prisma_relation_joins_are_valued_and_timed(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    calcom_app.build(conn)
    conn.execute("SELECT pg_stat_statements_reset()")
    calcom_app.run_as_app(db)
    result = emitted(conn, tmp_path / "m")
    [st] = [s for s in result.indexes.statements if "Booking_attendees" in s.query]
    assert "ON $" in st.query and "JSONB_BUILD_OBJECT($" in st.query, st.query   # normalized, as in the app's
    ons = ["$9", "$12"]                  # numbered in text order after the five the app binds
    keys = ["$7", "$8", "$10", "$11"]
    assert st.generic_params == [], (st.generic_params, st.values)
    assert [st.values[p] for p in ons] == ["true", "true"], st.values
    assert all(st.values[p] for p in keys), st.values        # a NULL key: "key must not be null" when run
    [target] = [t for t in json.loads((tmp_path / "m" / "targets.json").read_text())
                if "Booking_attendees" in t["query"]]
    assert target["baseline_ms"] is not None, target["baseline_note"]
