"""p13: a partial candidate on a partitioned table is one HypoPG never plans.

HypoPG 1.3.1 makes a hypothetical index on a partitioned table's partitions, but one WITH a predicate is used by
no plan (``WHERE "contactId" IS NOT NULL`` and ``WHERE finished`` alike; on a leaf the same index is planned).
On a Formbricks-shaped database the responses of a contact (``"contactId" = $1 ORDER BY updated_at``, 42% of the
workload's planned cost; two thirds of responses have no contact) got only the mostly-NULL key's partial
candidate, and suggest said "no index pgtune could propose makes it cheaper": 30,435 per call, where a full
("contactId") index on the partitioned table plans at 105.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Options

from .helpers import suggest

BY_CONTACT = ('SELECT "id", "surveyId", "finished" FROM "Response" WHERE "contactId" = $1 '
              'ORDER BY "updated_at" ASC OFFSET $2')


@pytest.mark.needs_hypopg
def test_a_partitioned_tables_statements_get_candidates_hypopg_plans(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute('CREATE TABLE "Response" (id text NOT NULL, created_at timestamp NOT NULL, '
                 'updated_at timestamp NOT NULL, "surveyId" text NOT NULL, "contactId" text, '
                 'finished boolean NOT NULL, PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at)')
    for m in range(1, 7):
        conn.execute(f'CREATE TABLE "Response_{m}" PARTITION OF "Response" '
                     f"FOR VALUES FROM ('2026-{m:02}-01') TO ('2026-{m + 1:02}-01')")
    conn.execute('INSERT INTO "Response" SELECT \'rs\' || g, timestamp \'2026-01-01\' + g * interval \'1 minute\', '
                 "timestamp '2026-01-01' + g * interval '1 minute', 'sv' || g % 3000, "
                 "CASE WHEN g % 3 = 0 THEN 'ct' || g % 50000 END, g % 4 <> 0 FROM generate_series(1, 240000) g")
    conn.execute('VACUUM ANALYZE "Response"')
    conn.execute("SELECT pg_stat_statements_reset()")
    conn.execute("SELECT pg_qualstats_reset()")
    with psycopg.connect(db, autocommit=True, prepare_threshold=None) as app:
        for k in range(30):
            app.execute(BY_CONTACT.replace("$1", "%s").replace("$2", "%s"), (f"ct{3 * k + 3}", 0)).fetchall()
    advice = suggest(conn, options=Options(min_rows=100))
    by_contact = next(s for s in advice.statements if '"contactId" =' in s.query)
    assert by_contact.indexes and by_contact.cost_after is not None and by_contact.cost_before is not None
    assert by_contact.cost_after * 10 < by_contact.cost_before, (by_contact.cost_before, by_contact.cost_after)
    for name in by_contact.indexes:
        index = next(i for i in advice.indexes if i.name == name)
        assert index.where is None, (index.name, index.where)
