"""A filter on a JSON key the application writes as a constant gets a value for what it is compared with (p27).

p27 (a Documenso-shaped app): Kysely sends ``"data"->>'recipientEmail' = $1`` on the audit log.
pg_stat_statements normalizes the key to ``$3``; pg_qualstats' example of the statement holds the key as the
application wrote it, so pgtune binds ``"data"->>'recipientEmail'`` (an expression an index can key on) —
and then had no rule for ``$1``: pg_stats keeps no statistics of an expression no index has yet. The
statement was planned generic, its predicted 1,040x cut was never timed at emit, and ``verify --measure``
said "parameterized: no value for $1 to run it with". One sampled document gives the value under the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import api, plan
from pgtune.analyze import Options
from pgtune.baseline import Measurement

from .helpers import suggest

AUDIT = ('SELECT "id", "createdAt" FROM "AuditLog" WHERE "data"->>\'recipientEmail\' = $1 '
         'ORDER BY "createdAt" DESC LIMIT $2')


def _app(conn: psycopg.Connection[Any], db: str) -> None:
    conn.execute('CREATE TABLE "AuditLog" (id text PRIMARY KEY, "createdAt" timestamp(3) NOT NULL, '
                 'data jsonb NOT NULL)')
    conn.execute('INSERT INTO "AuditLog" SELECT \'cl\' || i, now() - i * interval \'1 minute\', '
                 "jsonb_build_object('recipientEmail', 'signer' || (i % 4000) || '@example.com', 'recipientId', i) "
                 "FROM generate_series(1, 60000) i")
    conn.execute('ANALYZE "AuditLog"')
    conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(db, autocommit=True, cursor_factory=psycopg.RawCursor) as app:
        app.execute("SET pg_qualstats.sample_rate = 1")      # its example holds the key as written
        for i in range(30):
            app.execute(AUDIT, (f"signer{i}@example.com", 20)).fetchall()


def _row(advice: Any) -> Any:
    [row] = [s for s in advice.statements if "AuditLog" in s.query and s.query.startswith("SELECT")]
    return row


@pytest.mark.needs_qualstats
def test_a_constant_json_keys_compared_value_comes_from_a_sampled_document(
        db: str, conn: psycopg.Connection[Any]) -> None:
    _app(conn, db)
    row = _row(suggest(conn, options=Options(min_rows=100, use_hypopg=False)))
    assert not row.generic_params, (row.query, row.params)
    [value] = [p.value for p in row.params if p.param == "$1"]
    [(found,)] = conn.execute("""SELECT count(*) FROM "AuditLog" WHERE data->>'recipientEmail' = %s""",
                              [value]).fetchall()
    assert found > 0, value


@pytest.mark.needs_qualstats
@pytest.mark.needs_hypopg
def test_its_target_is_timed_at_emit_and_measured_by_verify(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    _app(conn, db)
    folder = tmp_path / "m"
    result = api.suggest(conn, api.SuggestOptions(Options(min_rows=100), constraints=False),
                         emit=api.EmitOptions(directory=folder))
    assert result.migration is not None
    [target] = [t for t in plan.load(folder).targets if "AuditLog" in t.query]
    assert target.baseline_ms is not None, (target.baseline_note, target.values)
    api.apply(conn, folder)
    [checked] = [t for t in api.verify(conn, folder, measure=True).targets if "AuditLog" in t.query]
    assert checked.measurement == Measurement.MEASURED and checked.ms is not None, checked.note
