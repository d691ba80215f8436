"""HypoPG in a schema the application role's search_path leaves out (``ALTER ROLE app SET search_path = app``).

pgtune plans the role's statements under its search_path (explain.PlanContext,
SET LOCAL in the pipeline's shared READ ONLY transaction); the next question's
hypopg calls were queued in that same transaction, unqualified, and failed
there: "function hypopg_create_index(text) does not exist" in the server's log,
7 per suggest on a documenso-shaped database (u6), each failure giving up the
pipelined answers for one question at a time.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

SCHEMA = """
CREATE SCHEMA ext;
CREATE EXTENSION hypopg SCHEMA ext;
CREATE SCHEMA app;
CREATE TABLE app."Envelope" (id int PRIMARY KEY, "teamId" int NOT NULL, status text NOT NULL,
                             "createdAt" timestamp NOT NULL);
CREATE TABLE app."Recipient" (id int PRIMARY KEY, "envelopeId" int NOT NULL, token text NOT NULL, email text NOT NULL);
INSERT INTO app."Envelope" SELECT g, g % 500, (ARRAY['DRAFT','PENDING','COMPLETED'])[1 + g % 3],
    timestamp '2026-01-01' + g * interval '1 minute' FROM generate_series(1, 20000) g;
INSERT INTO app."Recipient" SELECT g, 1 + g / 2, md5(g::text), 'r' || g % 7000 || '@x.org'
    FROM generate_series(1, 40000) g;
ANALYZE app."Envelope";
ANALYZE app."Recipient";
"""


@pytest.mark.no_hypopg
@pytest.mark.needs_hypopg
def test_hypopg_outside_the_roles_search_path_is_called_without_errors(
        db: str, conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from pgtune import api
    from pgtune.analyze import Options, batch
    from pgtune.capture import Statement

    conn.execute(SCHEMA)
    role = f"app_{conn.info.dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    conn.execute(sql.SQL("ALTER ROLE {} SET search_path = app").format(sql.Identifier(role)))
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA app TO {}").format(sql.Identifier(role)))
    conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA app TO {}").format(sql.Identifier(role)))
    row = conn.execute("SELECT oid FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    assert row is not None
    oid = int(row[0])
    queries = ['SELECT id FROM "Envelope" WHERE "teamId" = $1 AND status = $2',
               'SELECT * FROM "Envelope" WHERE "teamId" = $1 ORDER BY "createdAt" DESC LIMIT $2',
               'SELECT * FROM "Recipient" WHERE token = $1',
               'SELECT * FROM "Recipient" WHERE "envelopeId" = $1',
               'SELECT count(*) FROM "Recipient" WHERE email = $1']
    statements = [Statement(q, queryid=i + 1, calls=50, total_ms=500.0, mean_ms=10.0, userid=oid)
                  for i, q in enumerate(queries)]
    answers: list[bool] = []
    real = batch.pipelined

    def spied(costing: Any, hypo: Any, asks: Any) -> Any:
        out = real(costing, hypo, asks)
        answers.append(out is not None)
        return out

    monkeypatch.setattr(batch, "pipelined", spied)
    with psycopg.connect(db, autocommit=True) as c:
        advice = api.suggest(c, api.SuggestOptions(Options(min_rows=1000, jobs=1), constraints=False),
                             statements=statements).indexes
    assert advice.method == "hypopg"
    assert {next(iter(i.columns)) for i in advice.indexes} >= {"teamId", "token", "envelopeId"}
    assert answers and all(answers), answers      # no pipeline gave up on a hypopg call it could not find
