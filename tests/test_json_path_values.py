"""Prisma's JSON path filters get values from a sampled document, so they are costed and timed with values.

p13 (a Formbricks-shaped app): ``("meta"#>ARRAY[$3]::text[])::jsonb = $4::jsonb``
had no value rule for the path's key or the value, so the statement was
planned generic and ``verify --measure`` left two of ten targets untimed
("parameterized: no value for $3"). pg_stats keeps no key of a document; one
sampled row's document gives a key and the value under it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import api, plan
from pgtune.analyze import Options
from pgtune.baseline import Measurement

from .helpers import suggest

# As Prisma's query engine writes them: the path's keys are parameters in ARRAY[…]::text[] (#> for equals,
# #>> for string_contains), the value a jsonb parameter; Kysely-style raw SQL chains -> and ->>.
EQUALS = ('SELECT "public"."Response"."id" FROM "public"."Response" WHERE ("public"."Response"."surveyId" = $1 '
          'AND ("public"."Response"."meta"#>ARRAY[$2]::text[])::jsonb = $3::jsonb) LIMIT $4 OFFSET $5')
CONTAINS = ('SELECT "public"."Response"."id" FROM "public"."Response" WHERE ("public"."Response"."surveyId" = $1 '
            'AND ("public"."Response"."meta"#>>ARRAY[$2,$3]::text[])::text LIKE $4) LIMIT $5 OFFSET $6')
CHAINED = 'select "id" from "Response" where "surveyId" = $1 and "meta" -> $2 ->> $3 = $4'


def _app(conn: psycopg.Connection[Any], db: str) -> None:
    conn.execute('CREATE TABLE "Response" (id int PRIMARY KEY, "surveyId" int NOT NULL, meta jsonb)')
    # Most rows carry no document (NULL), as an app's optional metadata; the rest a flat pair and a nested one.
    conn.execute('INSERT INTO "Response" SELECT i, i % 500, CASE WHEN i % 3 = 0 THEN jsonb_build_object('
                 "'source', (ARRAY['ios', 'android', 'web'])[1 + i % 7 % 3], 'url', 'https://acme.io/s/' || i, "
                 "'userAgent', jsonb_build_object('os', 'os' || (i % 11), 'browser', 'b' || (i % 5))) END "
                 "FROM generate_series(1, 60000) i")
    conn.execute('ANALYZE "Response"')
    conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(db, autocommit=True) as app:
        if app.execute("SELECT count(*) FROM pg_settings WHERE name = 'pg_qualstats.enabled'").fetchone() == (1,):
            app.execute("SET pg_qualstats.enabled = off")    # no constant seen: the sample is the only source
        for i in range(20):
            for text, args in ((EQUALS, (i, "source", '"ios"', 25, 0)),
                               (CONTAINS, (i, "userAgent", "os", "%os3%", 25, 0)),
                               (CHAINED, (i, "userAgent", "browser", "b2"))):
                app.execute(re.sub(r"\$\d+", "%s", text), args).fetchall()     # each $n once, in order


# Each statement's JSON filter alone, with its $n (the keys and the value) in order. PostgreSQL 18's
# pg_stat_statements squashes ARRAY[$2,$3] to ARRAY[$2 /*, ... */] and numbers the $n after it down: the path
# is then one key long, as the statement is planned and timed.
PROBES = {"#>ARRAY[$2]": ("(meta #> ARRAY[%s]::text[])::jsonb = %s::jsonb", ("$2", "$3")),
          "#>>ARRAY[$2,$3]": ("(meta #>> ARRAY[%s,%s]::text[])::text LIKE %s", ("$2", "$3", "$4")),
          "#>>ARRAY[$2 /*, ... */]": ("(meta #>> ARRAY[%s]::text[])::text LIKE %s", ("$2", "$3")),
          '"meta" -> $2 ->> $3': ("meta -> %s ->> %s = %s", ("$2", "$3", "$4"))}


def test_a_json_path_filter_gets_its_keys_and_value_from_a_sampled_document(
        db: str, conn: psycopg.Connection[Any]) -> None:
    _app(conn, db)
    advice = suggest(conn, options=Options(min_rows=100, use_hypopg=False))
    rows = [s for s in advice.statements if "meta" in s.query]
    assert len(rows) == 3, [s.query for s in advice.statements]
    for row in rows:
        [(probe, params)] = [p for marker, p in PROBES.items() if marker in row.query]
        assert not row.generic_params, (row.query, row.params)
        got = {p.param: p for p in row.params}
        assert {str(got[n].source) for n in params} == {"sample"}, row.params
        # The keys and the value are one document's: the filter holds for some row, not only in the plan.
        [(found,)] = conn.execute(f'SELECT count(*) FROM "Response" WHERE {probe}',
                                  [got[n].value for n in params]).fetchall()
        assert found > 0, (row.query, [got[n].value for n in params])


@pytest.mark.needs_hypopg
def test_a_json_path_filters_target_is_timed_at_emit_and_measured_by_verify(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """The statement's index target is timed at emit with the sampled key and value, and verify --measure
    times it after deploy: no "parameterized: no value for $2"."""
    _app(conn, db)
    folder = tmp_path / "m"
    result = api.suggest(conn, api.SuggestOptions(Options(min_rows=100), constraints=False),
                         emit=api.EmitOptions(directory=folder))
    assert result.migration is not None
    targets = [t for t in plan.load(folder).targets if "#>ARRAY" in t.query or "#>>ARRAY" in t.query]
    assert targets, [t.query for t in plan.load(folder).targets]
    for t in targets:
        assert t.baseline_ms is not None, (t.query, t.baseline_note, t.values)
    api.apply(conn, folder)
    checked = api.verify(conn, folder, measure=True)
    for t in checked.targets:
        if "#>ARRAY" in t.query or "#>>ARRAY" in t.query:
            assert t.measurement == Measurement.MEASURED and t.ms is not None, (t.query, t.note)
