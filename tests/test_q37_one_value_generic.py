"""One value sent every time through a prepared statement is not many values nobody saw (q37).

pg_qualstats keeps a qual's constant only while the plan is custom: a prepared statement's first five executions,
then its generic plan's occurrences carry none (q36). A self-hosted Umami that tracks one website sends that
website's id and the pageview's ``event_type = 1`` in every call, and leaves the same counts as q36's dashboard of
many sites: five constants, then occurrences without one. q36's rule costed the unseen 75% with values of typical
frequency, a small site and a rare event type the application never sends. The rows tell them apart: the generic
plan's executions of website 1 let through as many rows each as the custom ones (pg_qualstats' execution_count
less nbfiltered), a small site's far fewer.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.types.numeric import Int4

from pgtune.analyze.bind import bind
from pgtune.analyze.coverage import valued
from pgtune.analyze.scenarios import Coverage, ValueSource
from pgtune.capture import TableKey, read_catalog
from pgtune.snapshot import QualConstant

from .helpers import steady_state, suggest

# umami-software/umami's website_event: one big website (37% of the events), 1,499 small ones; pageviews are
# event_type 1 (80%), custom events 2, the rest rarer.
UMAMI = """
CREATE TABLE website_event (
    event_id   bigint PRIMARY KEY,
    website_id int NOT NULL,
    event_type int NOT NULL,
    url_path   text NOT NULL,
    created_at timestamptz NOT NULL
);
INSERT INTO website_event
SELECT g, CASE WHEN g % 27 < 10 THEN 1 ELSE 2 + (g::bigint * 7919) % 1499 END,
       CASE WHEN g % 10 < 8 THEN 1 WHEN g % 10 = 8 THEN 2 ELSE 3 + g % 7 END, '/p' || g % 50,
       timestamptz '2026-01-01' + g * interval '100 seconds'
FROM generate_series(1, 300000) g;
ANALYZE website_event;
"""
PAGES = ("SELECT url_path, count(*) FROM website_event WHERE website_id = %s AND event_type = %s "
         "GROUP BY url_path ORDER BY 2 DESC LIMIT 10")
PAGES_MANY = PAGES.replace("count(*)", "count(event_id)")     # its own queryid
CALLS = 20


def _calls(conn: psycopg.Connection[Any], query: str, sites: list[int]) -> None:
    """Prepared, as Prisma sends them: custom plans for five calls, then the generic plan."""
    with conn.cursor() as cur:
        for site in sites:
            cur.execute(query, (Int4(site), Int4(1)), prepare=True)
            cur.fetchall()


@pytest.mark.needs_hypopg
@pytest.mark.needs_qualstats
def test_one_value_sent_every_time_prices_every_call(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(UMAMI)
    steady_state(conn)
    conn.execute("SELECT pg_qualstats_reset()")
    with psycopg.connect(db, autocommit=True) as app:
        _calls(app, PAGES, [1] * CALLS)                                        # one website, every call
        _calls(app, PAGES_MANY, [1] * 5 + [2 + i * 37 for i in range(CALLS - 5)])   # the big one first, then others
    advice = suggest(conn)
    [one] = [s for s in advice.statements if "website_event" in s.query and "count(*)" in s.query]
    [many] = [s for s in advice.statements if "count(event_id)" in s.query]
    # The same counts on both: constants for the custom plans only.
    for st in (one, many):
        cov = st.qualstats_coverage
        assert cov is not None and cov.of == 2 * CALLS and 0 < cov.seen < cov.of / 2, (st.query, cov)
    assert one.qualstats_coverage is not None and one.qualstats_coverage.alike
    assert [(s["values"]["$1"], s["values"]["$2"]) for s in one.scenarios] == [("1", "1")], one.scenarios
    assert one.values_source == ValueSource.QUALSTATS and any("let through as many rows" in n for n in one.notes)
    # Many websites: the rest is costed with a site of typical size, the big one for its share (q36).
    assert many.qualstats_coverage is not None and not many.qualstats_coverage.alike
    assert many.scenarios[0]["source"] != "qualstats" and many.scenarios[0]["values"]["$1"] != "1", many.scenarios
    # Website 1's calls read a third of the table whatever is built: no index is claimed to serve them (q36's rule
    # costed 75% of them as a small site's and claimed 5,928 -> 1,786 for (website_id, event_type)).
    assert one.cost_before is not None and one.cost_after == one.cost_before, (one.cost_before, one.cost_after)


EVENTS: TableKey = ("public", "website_event")
NORMALIZED = ("SELECT url_path, count(*) FROM website_event WHERE website_id = $1 AND event_type = $2 "
              "GROUP BY url_path ORDER BY $3 DESC LIMIT $4")


def test_the_rows_without_a_constant_tell_one_value_from_many(conn: psycopg.Connection[Any]) -> None:
    """The rule on pg_qualstats' counts as snapshot reads them (q37's cluster: 5 occurrences with website 1 and
    event type 1, 88,889 rows kept each; 15 without, 88,889 each when the application sent website 1 again, 6,020
    when it sent small sites)."""
    conn.execute(UMAMI.replace("300000", "30000"))
    catalog = read_catalog(conn)
    shape = bind(NORMALIZED, catalog)
    constants = [QualConstant(EVENTS, column, "=", "1", 5, 5 * (300_000 - 88_889), 5 * 300_000)
                 for column in ("website_id", "event_type")]

    def counted(kept_each: int, read_each: int = 300_000) -> Coverage | None:
        found = valued(shape, catalog, 4, constants, rows_per_call=10,
                       unseen={(EVENTS, c, "="): 15 for c in ("website_id", "event_type")},
                       rows={(EVENTS, c, "="): (15 * read_each, 15 * kept_each) for c in ("website_id", "event_type")})
        if found.coverage is not None and found.coverage.alike:
            assert [s.source for s in found.scenarios] == [ValueSource.QUALSTATS], found.scenarios
        else:
            assert found.scenarios[0].source != ValueSource.QUALSTATS, found.scenarios
        return found.coverage

    assert counted(88_889) == Coverage(10, 40, alike=True)
    assert counted(6_020) == Coverage(10, 40, alike=False)
    assert counted(0) == Coverage(10, 40, alike=False)
    # As many rows let through, far more read: a LIMIT's page of a small tenant that scanned on (q37)
    assert counted(88_889, read_each=900_000) == Coverage(10, 40, alike=False)
    # Two constants seen for one qual: many values, whatever the rows.
    constants[0:1] = [QualConstant(EVENTS, "website_id", "=", v, 5, 5 * (300_000 - 88_889), 5 * 300_000)
                      for v in ("1", "2")]
    assert counted(88_889) == Coverage(15, 45, alike=False)


RECENT = ("SELECT url_path FROM website_event WHERE website_id = $1 AND event_type = $2 AND created_at >= $3 "
          "ORDER BY created_at DESC LIMIT $4")


def test_both_valuations_sample_a_table_once(conn: psycopg.Connection[Any]) -> None:
    """pg_qualstats' constants for the range alone: with and without them the two equalities take one sampled row,
    read once for both valuations (one TABLESAMPLE, not two)."""
    conn.execute(UMAMI.replace("300000", "30000"))
    catalog = read_catalog(conn)
    sampled: list[tuple[TableKey, tuple[str, ...]]] = []

    def sample(table: TableKey, columns: list[str]) -> dict[str, str] | None:
        sampled.append((table, tuple(columns)))
        return {c: "7" for c in columns}

    constants = [QualConstant(EVENTS, "created_at", ">=", f"'2026-01-0{d} 00:00:00+00'::timestamp with time zone", 5)
                 for d in (2, 3)]
    found = valued(bind(RECENT, catalog), catalog, 4, constants, sample=sample, rows_per_call=10,
                   unseen={(EVENTS, "created_at", ">="): 90})
    assert found.coverage == Coverage(10, 100) and found.scenarios[0].values["$1"] == "7", found
    assert sampled == [(EVENTS, ("event_type", "website_id"))], sampled
