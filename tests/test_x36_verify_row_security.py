"""A statement under row security is timed as the role emit planned it as, with the setting it was planned with (x36).

Found on a Documenso-shaped database (t36): every read of the application's role goes through a tenant policy,
``"teamId" = current_setting('app.team_id')::int``. ``verify --measure`` and ``suggest --emit`` refused to time any
statement that reads a table under row security, so 0 of 5 targets were measured (exit 0) and the 835x headline
rested on the planner's cost alone. A target planned as the role (SET LOCAL ROLE, the setting's value) is timed the
same way, inside BEGIN READ ONLY ... ROLLBACK, when every policy a SELECT runs on its tables is PostgreSQL's own code;
a policy that calls the application's code is refused, in words. pgtune's own reads (not as the role) still are.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner
from psycopg import sql

from pgtune import baseline, ddl, plan
from pgtune.apply import Applier
from pgtune.baseline import Measurement, time_target
from pgtune.cli import cli
from pgtune.ddl import IndexKey
from pgtune.plan import Target
from pgtune.readonly import why_not_read_only

from .helpers import login_roles

# Documenso's shape (documenso/documenso, packages/prisma/schema.prisma): envelopes by team, listed by status.
ENVELOPES = """
CREATE SCHEMA app;
CREATE TABLE app."Envelope" (id text PRIMARY KEY, "teamId" int NOT NULL, status text NOT NULL,
                             "deletedAt" timestamptz, "createdAt" timestamptz NOT NULL, title text NOT NULL);
INSERT INTO app."Envelope" SELECT 'env' || g, CASE WHEN g % 4 = 0 THEN 1 ELSE 2 + g % 500 END,
       (ARRAY['DRAFT', 'PENDING', 'COMPLETED'])[1 + g % 3], NULL, now() - g * interval '1 minute', 'doc ' || g
FROM generate_series(1, 20000) AS g;
ALTER TABLE app."Envelope" ENABLE ROW LEVEL SECURITY;
ANALYZE app."Envelope";
"""
LIST = ('SELECT id, title, status, "createdAt" FROM "Envelope" WHERE status = $1 AND "deletedAt" IS NULL '
        'ORDER BY "createdAt" DESC LIMIT $2')


def _envelopes(conn: psycopg.Connection[Any], app: str, using: str) -> None:
    conn.execute(ENVELOPES)
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA app TO {}").format(sql.Identifier(app)))
    conn.execute(sql.SQL('GRANT SELECT ON app."Envelope" TO {}').format(sql.Identifier(app)))
    conn.execute(sql.SQL('CREATE POLICY team_isolation ON app."Envelope" TO {} USING ({})').format(
        sql.Identifier(app), sql.SQL(using)))   # a test's own constant text


def _target(app: str, team: str = "7") -> Target:
    return Target(queryid=1, query=LIST, calls=100, baseline_cost=None, param_types=["text", "bigint"],
                  values={"$1": "PENDING", "$2": "20"}, role=app, search_path=["app", "public"],
                  settings={"app.team_id": team})


def test_a_target_planned_as_its_role_is_timed_under_its_policy(conn: psycopg.Connection[Any]) -> None:
    with login_roles(conn, "app") as (app,):
        _envelopes(conn, app, "\"teamId\" = current_setting('app.team_id')::int")
        timed, why = time_target(conn, _target(app))
        assert why is None and timed is not None, why
        assert timed.ms > 0 and timed.values == "$1 = 'PENDING', $2 = '20'"
        # As the role, with the target's setting: a team's statement with no setting fails on the server, so it
        # ran with app.team_id set; and in a rolled-back transaction: nothing of it stays in this session.
        assert conn.execute("SELECT current_setting('app.team_id', true), current_user").fetchone() in (
            (None, conn.info.user), ("", conn.info.user))
        # pgtune's own reads (a sample, a probe: as itself) still refuse the table: its policy's setting has no
        # value there, and the policies of another role are not what it runs
        assert why_not_read_only(conn, LIST, search_path=("app", "public")) == \
            'reads "Envelope", which has row-level security policies (user expressions)'


def test_a_policy_that_calls_the_application_s_code_is_not_run(conn: psycopg.Connection[Any]) -> None:
    with login_roles(conn, "app") as (app,):
        conn.execute("CREATE FUNCTION public.my_team() RETURNS int LANGUAGE sql STABLE "
                     "AS $$ SELECT current_setting('app.team_id')::int $$")
        _envelopes(conn, app, '"teamId" = public.my_team()')
        timed, why = time_target(conn, _target(app))
        assert timed is None and why is not None
        assert why.kind == Measurement.NOT_EXECUTED
        assert why.reason.startswith('reads "Envelope", whose row security policy team_isolation calls a '
                                     "user-defined function: public.my_team"), why.reason


BY_TEAM = "Envelope_teamId_status_createdAt_idx"


def _migration(conn: psycopg.Connection[Any], folder: Path, target: Target) -> Target:
    """A migration of Documenso's (teamId, status, createdAt DESC) index for ``target``, emitted with its baseline
    timed as emit times it, then applied."""
    keys = (IndexKey("teamId"), IndexKey("status"), IndexKey("createdAt", descending=True))
    index = plan.PlannedIndex("app", "Envelope", BY_TEAM, ddl.create_index("app", "Envelope", BY_TEAM, keys),
                              ddl.drop_index("app", BY_TEAM), ddl.analyze("app", "Envelope"))
    [t] = baseline.capture(conn, [target], analyze=True)
    plan.emit(plan.Migration(id="20261207T000000_x36", created="20261207T000000", server_version="15",
                             phases=[plan.Phase(1, "indexes", "test", [index])], targets=[t]), folder)
    Applier(conn, folder).apply()
    return t


def test_verify_measure_times_the_tenant_s_statement_and_says_why_not_in_words(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    with login_roles(conn, "app") as (app,):
        _envelopes(conn, app, "\"teamId\" = current_setting('app.team_id')::int")
        t = _migration(conn, tmp_path / "m", replace(_target(app), expected_indexes=[BY_TEAM]))
        assert t.baseline_ms is not None, t.baseline_note      # emit timed it too, as the role
        result = CliRunner().invoke(cli, ["verify", str(tmp_path / "m"), "--dsn", db, "--measure"])
        assert result.exit_code == 0, result.output
        assert "measured 1 of 1 statements now" in result.output, result.output
        assert "not timed now" not in result.output
        # A policy calling the application's function: not run, and the lines under the table say why in words;
        # an unmeasured target fails nothing (docs/verify-json.md: exit 1 when a target fails), as before.
        conn.execute("CREATE FUNCTION public.my_team() RETURNS int LANGUAGE sql STABLE "
                     "AS $$ SELECT current_setting('app.team_id')::int $$")
        conn.execute('ALTER POLICY team_isolation ON app."Envelope" USING ("teamId" = public.my_team())')
        result = CliRunner().invoke(cli, ["verify", str(tmp_path / "m"), "--dsn", db, "--measure"])
        assert result.exit_code == 0, result.output
        assert "measured 0 of 1 statements now" in result.output, result.output
        assert ('  not timed now (1 of 1): not executed: reads "Envelope", whose row security policy team_isolation '
                "calls a user-defined function: public.my_team") in result.output, result.output
