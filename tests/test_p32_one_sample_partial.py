"""A parameter pg_qualstats sampled once is not taken for a constant (p32, a Teable-shaped database).

Teable's record views filter a user table on a field the user picks: ``"Owner" = $1
AND "__created_time" > $2``, each call with another owner (50 of them, 2% of the
rows each). pg_qualstats samples one execution in 100 by default: of the 61 calls
it saw one, with 'usr13', and suggest took that one value as the one the
statement always runs with: ``CREATE INDEX … WHERE "Owner" = 'usr13'`` with a
"19.4x lower" cost cut that the other 49 owners' calls never get. A ``$n`` now
counts as a constant only when pg_qualstats saw every one of the statement's calls
or at least ``analysis.MIN_SEEN`` of them, all with the one value.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune import api

from .helpers import steady_state

RECORDS = """
CREATE SCHEMA "bseAbC12xYz";
CREATE TABLE "bseAbC12xYz"."Contacts_tblQ9xW" ("__id" varchar(255) NOT NULL UNIQUE,
  "__auto_number" serial PRIMARY KEY, "__created_time" timestamptz NOT NULL DEFAULT now(),
  "Owner" text, "Client Name" text);
INSERT INTO "bseAbC12xYz"."Contacts_tblQ9xW" ("__id", "__created_time", "Owner", "Client Name")
SELECT 'rec' || g, now() - (g % 1000) * interval '1 hour', 'usr' || (g * 17 % 50), 'c ' || g
FROM generate_series(1, 50000) AS g;
ANALYZE "bseAbC12xYz"."Contacts_tblQ9xW";
"""
VIEW = ('SELECT "__id", "Client Name" FROM "bseAbC12xYz"."Contacts_tblQ9xW" '
        'WHERE "Owner" = %s AND "__created_time" > %s ORDER BY "__created_time" DESC LIMIT 50')


def _run(db: str, owners: list[str], rate: float) -> None:
    with psycopg.connect(db, autocommit=True) as app:
        app.execute(f"SET pg_qualstats.sample_rate = {rate}")
        for owner in owners:
            app.execute(VIEW, (owner, "2020-01-01")).fetchall()


@pytest.mark.needs_qualstats
def test_one_sampled_value_of_a_parameter_makes_no_partial_index(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(RECORDS)
    conn.execute("SET pg_qualstats.enabled = off")
    steady_state(conn)
    conn.execute("SELECT pg_qualstats_reset()")
    _run(db, [f"usr{n}" for n in range(40)], 0)      # the calls the 1-in-100 sampling missed
    _run(db, ["usr13"], 1)                           # the one it kept
    result = api.suggest(conn, api.SuggestOptions(constraints=False))
    mine = [ix for ix in result.indexes.indexes if ix.table == "Contacts_tblQ9xW"]
    assert mine, result.indexes
    assert all(ix.where is None for ix in mine), [(ix.name, ix.where) for ix in mine]   # main: WHERE "Owner" = 'usr13'


@pytest.mark.needs_qualstats
def test_a_parameter_seen_with_one_value_on_every_call_still_is_one(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(RECORDS)
    conn.execute("SET pg_qualstats.enabled = off")
    steady_state(conn)
    conn.execute("SELECT pg_qualstats_reset()")
    _run(db, ["usr13"] * 6, 1)
    result = api.suggest(conn, api.SuggestOptions(constraints=False))
    mine = [ix for ix in result.indexes.indexes if ix.table == "Contacts_tblQ9xW"]
    assert any(ix.where == "\"Owner\" = 'usr13'" for ix in mine), [(ix.name, ix.where) for ix in mine]
