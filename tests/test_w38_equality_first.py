"""A widening does not put the range column before an equality column the same statement pins (w38, Formbricks).

Formbricks lists a survey's responses changed since a moment, oldest change
first: ``WHERE "surveyId" = $1 AND "updatedAt" > $2 ORDER BY "updatedAt"``,
a prepared statement on short-lived connections (each runs its custom plans,
and pg_qualstats records the surveys it is called for). A few surveys hold
most responses, thousands hold a handful. The greedy took ``("updatedAt")``
first (an 8-byte key: few bytes for a recent window) and widened it by
``"surveyId"``, a cheap step per byte, into ``("updatedAt", "surveyId")``,
which reads every survey's rows of the window and tests "surveyId" in each:
a small survey's year, 995 buffers and 26 ms, against 17 buffers and 0.05 ms
by ``("surveyId", "updatedAt")``. That one was never offered in place of the
one-column index: added beside it, it costs all its bytes. A widening by an
equality column of a statement whose other keys the index holds as a range
or sort is now offered with the equality column first (analyze.widen.first).
"""

from __future__ import annotations

import datetime
from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.analyze import Candidate
from pgtune.analyze.selection import Workload
from pgtune.analyze.widen import wider
from pgtune.ddl import IndexKey

from .helpers import steady_state

RESPONSES = """
CREATE TABLE "Survey" ("id" text PRIMARY KEY, "name" text NOT NULL, "environmentId" text NOT NULL);
CREATE TABLE "Response" ("id" text PRIMARY KEY,
  "createdAt" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" timestamp(3) NOT NULL,
  "finished" boolean NOT NULL DEFAULT false,
  "surveyId" text NOT NULL REFERENCES "Survey" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "contactId" text, "data" jsonb NOT NULL DEFAULT '{}', "meta" jsonb NOT NULL DEFAULT '{}');
INSERT INTO "Survey" SELECT 'cls' || lpad(g::text, 21, '0'), 'Survey ' || g, 'env' || (g % 40)
FROM generate_series(1, 3000) AS g;
-- three surveys hold 70% of the responses, the other 2,997 a few each; updatedAt runs over 400 days
INSERT INTO "Response" ("id", "createdAt", "updatedAt", "finished", "surveyId", "data")
SELECT 'clr' || lpad(g::text, 21, '0'), ts, ts + interval '5 minutes', g % 3 <> 0,
  'cls' || lpad((CASE WHEN g % 10 < 7 THEN 1 + g % 3 ELSE 4 + (g::bigint * 7919) % 2997 END)::text, 21, '0'),
  jsonb_build_object('q1', g % 5)
FROM generate_series(1, 150000) AS g,
  LATERAL (SELECT timestamp '2026-01-01' + (g * interval '230 seconds') AS ts) AS t
ORDER BY md5(g::text);
"""
CHANGED = ('SELECT "public"."Response"."id", "public"."Response"."updatedAt", "public"."Response"."finished", '
           '"public"."Response"."data" FROM "public"."Response" WHERE ("public"."Response"."surveyId" = $1 '
           'AND "public"."Response"."updatedAt" > $2) ORDER BY "public"."Response"."updatedAt" ASC')
LAST = datetime.datetime(2026, 1, 1) + datetime.timedelta(seconds=230 * 150000)


def _survey(n: int) -> str:
    return "cls" + str(n).zfill(21)


@pytest.mark.needs_hypopg
def test_equality_column_leads_the_widened_index(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(RESPONSES)
    conn.execute('VACUUM ANALYZE "Survey", "Response"')
    steady_state(conn)
    query = CHANGED.replace("$1", "%s").replace("$2", "%s")
    for n in range(20):     # serverless: a connection a few requests, each preparing the statement anew
        with psycopg.connect(db, autocommit=True) as app, app.cursor() as cur:
            for i in range(3):
                survey = _survey(1 + (n + i) % 3) if n % 5 else _survey(4 + (n * 37 + i) % 2997)
                cur.execute(query, (survey, LAST - datetime.timedelta(hours=6 + 6 * i)), prepare=True)
    advice = api.suggest(conn, api.SuggestOptions(constraints=False)).indexes
    on_responses = [ix.columns for ix in advice.indexes if ix.table == "Response"]
    assert on_responses == [["surveyId", "updatedAt"]], on_responses       # main: [["updatedAt", "surveyId"]]
    # nor at any point of the curve (a smaller budget's set)
    steps = [p.index for p in advice.curve]
    assert "Response_updatedAt_surveyId_idx" not in steps and "Response_surveyId_updatedAt_idx" in steps, steps


T = ("public", "Response")
UPDATED, SURVEY, FINISHED = IndexKey("updatedAt"), IndexKey("surveyId"), IndexKey("finished")


def _statement(*pinned: str, using: str = "updatedAt,surveyId,finished") -> Workload:
    return Workload(calls=1, base_cost=100.0, tables=frozenset({T}), keyable={T: frozenset(using.split(","))},
                    touched={}, equal=frozenset((T, c) for c in pinned))


def test_a_widening_by_a_pinned_column_puts_it_first() -> None:
    """The orders widen.first offers: the equality column ahead of a range or sort key; the appended order too
    only where a statement the index serves uses the column otherwise, or pins every key."""
    chosen = Candidate(T, (UPDATED,), 1)
    columns = {T: [SURVEY]}
    keys = [w.keys for w in wider(chosen, [_statement("surveyId")], columns)]
    assert keys == [(SURVEY, UPDATED)]                                  # main: [(UPDATED, SURVEY)]
    # a statement that ranges on updatedAt alone gains nothing by the appended surveyId: one order still
    keys = [w.keys for w in wider(chosen, [_statement("surveyId"), _statement(using="updatedAt")], columns)]
    assert keys == [(SURVEY, UPDATED)]
    keys = [w.keys for w in wider(chosen, [_statement("surveyId"), _statement()], columns)]
    assert keys == [(UPDATED, SURVEY), (SURVEY, UPDATED)]               # the costs decide
    assert [w.keys for w in wider(chosen, [_statement("surveyId", "updatedAt")], columns)] == [(UPDATED, SURVEY)]
    # pinned keys of the chosen index stay ahead, in its order; the new one last of them
    wide = wider(Candidate(T, (FINISHED, UPDATED), 1), [_statement("finished", "surveyId")], columns)
    assert [(w.keys, w.equality) for w in wide] == [((FINISHED, SURVEY, UPDATED), 2)]
