"""A statement without ``$n`` under row security is planned for the big tenant too (q37).

w36 planned the policy's most common tenant as one scenario more for a statement with ``$n``; one without any
(a Kysely or raw count of the tenant's rows by type, the tenant from ``current_setting('app.team_id')``) had no
scenario to add it to and was planned with a tenant of typical size alone. On w36's Documenso-shaped audit log
(team 1: 60% of the rows) ``SELECT type, count(*) FROM audit GROUP BY type`` was claimed 3,324 -> 200 for
("teamId", "createdAt"), where team 1's calls read 72,000 rows by a sequential scan whatever is built (3,683).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from pgtune import api
from pgtune.analyze import AnalyzedStatement, Options
from pgtune.baseline import time_target
from pgtune.capture import WorkloadFilter
from pgtune.plan import Target

from .helpers import login_roles
from .test_w36_rls_big_tenant import _audit

TYPES = "SELECT type, count(*) FROM audit GROUP BY type"


def _types(conn: psycopg.Connection[Any], db: str, app: str) -> AnalyzedStatement:
    """The count by type, for team 1 in 6 calls of 10 and small teams in the others, as the application's role."""
    _audit(conn, app)
    with psycopg.connect(make_conninfo(db, user=app), autocommit=True) as c:
        for e in range(1, 41):
            c.execute("SELECT set_config('app.team_id', %s, false)", (str(1 if e % 10 < 6 else 2 + e % 2000),))
            c.execute(TYPES).fetchall()
    options = api.SuggestOptions(indexes=Options(min_rows=0, workload=WorkloadFilter(roles=(app,))),
                                 constraints=False)
    [st] = [s for s in api.suggest(conn, options).indexes.statements if s.query == TYPES]
    return st


def test_no_param_statement_gets_the_big_tenant(db: str, conn: psycopg.Connection[Any]) -> None:
    with login_roles(conn, "app") as (app,):
        st = _types(conn, db, app)
        assert st.planned_as == app and st.settings["app.team_id"] != "1", st
        typical, big = st.scenarios
        assert typical["values"] == {"app.team_id": st.settings["app.team_id"]}, st.scenarios
        assert big["values"] == {"app.team_id": "1"} and 0.55 < big["weight"] < 0.65, st.scenarios
        assert typical["weight"] + big["weight"] == pytest.approx(1), st.scenarios
        assert any("= '1' too, the most common tenant (" in n for n in st.notes), st.notes
        assert st.values == {} and st.generic_params == [], st      # no $n: nothing else changes


@pytest.mark.needs_hypopg
def test_no_param_statement_s_cut_counts_the_big_tenant(db: str, conn: psycopg.Connection[Any]) -> None:
    with login_roles(conn, "app") as (app,):
        st = _types(conn, db, app)
        assert st.cost_before is not None and st.cost_after is not None, st
        # Team 1's 60% read their rows by a sequential scan whatever is built: at most 40% of the cost goes.
        assert st.cost_after > 0.5 * st.cost_before, (st.cost_before, st.cost_after, st.scenarios)


def test_each_tenant_of_a_no_param_statement_is_timed(conn: psycopg.Connection[Any]) -> None:
    """The baseline times each scenario with its tenant (as x36 times a $n statement's), not the typical one
    alone: before, ``1 of 2 value scenarios (100% of their weight)`` was the small team's time only."""
    with login_roles(conn, "app") as (app,):
        _audit(conn, app)
        target = Target(queryid=1, query=TYPES, calls=40, baseline_cost=None, param_types=[], values={}, role=app,
                        search_path=["app", "public"], settings={"app.team_id": "7"},
                        scenarios=[{"values": {"app.team_id": "7"}, "source": "stats", "weight": 0.4},
                                   {"values": {"app.team_id": "1"}, "source": "stats", "weight": 0.6}])
        timed, why = time_target(conn, target)
        assert why is None and timed is not None, why
        assert (timed.timed, timed.custom) == (2, 2) and timed.share == pytest.approx(1), timed
        assert timed.values == "app.team_id = '7'", timed
