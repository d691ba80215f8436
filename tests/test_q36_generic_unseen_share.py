"""pg_qualstats' constants of a prepared statement stand for its first few calls only (q36, Umami-shaped).

Prisma runs a dashboard's statement as a server-side prepared statement: after five executions PostgreSQL
switches to its generic plan, and pg_qualstats records a qual's constant only while the plan is custom. On an
Umami-shaped database it saw constants for 25 of 3,406 qual occurrences, all for website 1 (1.11M of 3M
events), and pgtune planned ``website_id = $1 AND created_at BETWEEN $2 AND $3`` with that website alone: there
the equality keeps a third of the rows and the range, on the column the heap is ordered by, looked cheaper
first, so event_data got ``(created_at, website_id)``. The calls pg_qualstats saw without a constant are the
statement's own too: they are costed with a value of typical frequency (the ``stats`` scenario), weighted by
their share, and the equality comes first, which serves every site.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.types.numeric import Int4

from pgtune.analyze.bind import bind
from pgtune.analyze.coverage import valued
from pgtune.analyze.scenarios import Coverage, Scenario, ValueSource
from pgtune.analyze.values import Valued
from pgtune.capture import read_catalog
from pgtune.snapshot import QualConstant

from .helpers import steady_state, suggest

# One big website (37% of the events), 1,499 small ones; the heap is in created_at order, as events arrive.
UMAMI = """
CREATE TABLE website (website_id int PRIMARY KEY, name text NOT NULL);
INSERT INTO website SELECT g, 'site ' || g FROM generate_series(1, 1500) g;
CREATE TABLE event_data (
    event_data_id bigint PRIMARY KEY,
    website_id    int NOT NULL REFERENCES website (website_id),
    data_key      text NOT NULL,
    created_at    timestamptz NOT NULL
);
INSERT INTO event_data
SELECT g, CASE WHEN g % 27 < 10 THEN 1 ELSE 2 + (g::bigint * 7919) % 1499 END, 'key' || g % 40,
       timestamptz '2026-01-01' + g * interval '100 seconds'
FROM generate_series(1, 300000) g;
ANALYZE website, event_data;
"""
FIELDS = ("SELECT data_key, count(*) FROM event_data WHERE website_id = %s AND created_at BETWEEN %s AND %s "
          "GROUP BY data_key ORDER BY 2 DESC LIMIT 100")
START = datetime(2026, 1, 1, tzinfo=UTC)
BIG, CUSTOM, GENERIC = 1, 6, 60


def _dashboards(conn: psycopg.Connection[Any]) -> None:
    """The big site's dashboard first (the custom plans pg_qualstats sees), then small sites' (the generic plan)."""
    with conn.cursor() as cur:
        for i in range(CUSTOM + GENERIC):
            site = BIG if i < CUSTOM else 2 + (i * 37) % 1499
            end = START + timedelta(days=200 + i % 100)
            cur.execute(FIELDS, (Int4(site), end - timedelta(days=90), end), prepare=True)   # typed, as Prisma sends
            cur.fetchall()


@pytest.mark.needs_hypopg
@pytest.mark.needs_qualstats
def test_calls_pg_qualstats_saw_no_constant_for_are_costed_too(conn: psycopg.Connection[Any]) -> None:
    conn.execute(UMAMI)
    steady_state(conn)
    conn.execute("SELECT pg_qualstats_reset()")
    _dashboards(conn)
    counted = conn.execute("SELECT count(*) FILTER (WHERE constvalue IS NULL), count(*) FILTER (WHERE constvalue "
                           "IS NOT NULL) FROM pg_qualstats() q JOIN pg_class c ON c.oid = q.lrelid "
                           "WHERE c.relname = 'event_data' AND q.lattnum = 2").fetchone()
    assert counted is not None and counted[0] > 0 and counted[1] > 0, counted   # generic plans beside custom ones
    advice = suggest(conn)
    [st] = [s for s in advice.statements if "event_data" in s.query and "data_key" in s.query]
    keys = [ix.columns for ix in advice.indexes if ix.table == "event_data"]
    # Every site's calls take (website_id, created_at); none plans the range before the equality.
    assert ["website_id", "created_at"] in keys, (keys, st.scenarios)
    assert not [k for k in keys if {"website_id", "created_at"} <= set(k)
                and k.index("created_at") < k.index("website_id")], keys
    cov = st.qualstats_coverage
    assert cov is not None and cov.of == 3 * (CUSTOM + GENERIC) and 0 < cov.seen <= 3 * CUSTOM, cov
    main, *seen = st.scenarios
    assert main["source"] == "stats" and main["values"]["$1"] != str(BIG), st.scenarios
    assert main["weight"] == pytest.approx(1 - cov.seen / cov.of), st.scenarios
    assert {s["values"]["$1"] for s in seen} == {str(BIG)}, st.scenarios      # the big site's calls still count
    assert sum(s["weight"] for s in seen) == pytest.approx(cov.seen / cov.of), st.scenarios
    [row] = [r for r in advice.as_dict()["statements"] if r["queryid"] == st.queryid]
    assert row["qualstats_coverage"] == {"seen": cov.seen, "of": cov.of, "alike": False}, row
    assert any(f"constants in {cov.seen} of the {cov.of} occurrences" in n for n in st.notes), st.notes


EVENT_DATA = ("public", "event_data")
NORMALIZED = ("SELECT data_key, count(*) FROM event_data WHERE website_id = $1 AND created_at BETWEEN $2 AND $3 "
              "GROUP BY data_key ORDER BY 2 DESC LIMIT $4")
QUALS = [("website_id", "=", "1"), ("created_at", ">=", "'2026-04-23 00:00:00+00'::timestamp with time zone"),
         ("created_at", "<=", "'2026-07-20 00:00:00+00'::timestamp with time zone")]


def test_constants_standing_for_most_calls_keep_their_scenarios(conn: psycopg.Connection[Any]) -> None:
    """The rule's two sides, from pg_qualstats' counts as snapshot reads them: 6 calls with a constant beside 4
    without keep the scenarios the constants alone give; beside 60 without, the statement valued without them is
    the main scenario, weighted by the 60, and the constants' scenario keeps their share."""
    conn.execute(UMAMI.replace("300000", "30000"))
    catalog = read_catalog(conn)
    shape = bind(NORMALIZED, catalog)
    constants = [QualConstant(EVENT_DATA, column, op, value, 6) for column, op, value in QUALS]
    alone = valued(shape, catalog, 4, constants, rows_per_call=30)
    assert alone.coverage == Coverage(18, 18) and [s.values["$1"] for s in alone.scenarios] == ["1"], alone

    def counted(without: int) -> Valued:
        return valued(shape, catalog, 4, constants, rows_per_call=30,
                      unseen={(EVENT_DATA, column, op): without for column, op, _ in QUALS})

    most = counted(4)
    assert most.scenarios == alone.scenarios and most.params == alone.params, most
    assert most.coverage == Coverage(18, 30)
    few = counted(60)
    assert few.coverage == Coverage(18, 198)
    rest, *seen = few.scenarios
    assert rest.source == ValueSource.STATS and rest.values["$1"] not in (None, "1"), few.scenarios
    assert rest.weight == pytest.approx(180 / 198)
    assert seen == [Scenario(s.values, s.source, s.weight * 18 / 198) for s in alone.scenarios], few.scenarios
    assert [p.source for p in few.params[:3]] == [ValueSource.STATS] * 3, few.params     # the main scenario's
    # A $n no rule values without a constant (a column never analyzed) keeps the one pg_qualstats saw.
    del catalog.column_stats[("public", "event_data", "website_id")]
    blind = counted(60)
    assert [s.values["$1"] for s in blind.scenarios] == ["1"] * len(blind.scenarios), blind.scenarios
    assert blind.params[0].source == ValueSource.QUALSTATS and not blind.generic_params, blind.params
