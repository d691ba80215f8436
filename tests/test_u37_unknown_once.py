"""A proposal's reason says once that its keys' dependence is unknown (u37, a Formbricks-shaped database).

Run as the application's role, under row security on "Response", pgtune's
("updated_at", "surveyId") read "whether its keys depend on one another is
unknown (row security filters pgtune's reads)" four times: once per existing
index leading with "surveyId" (each asked whether "surveyId" determines
"updated_at") and once for its own keys.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pgtune.analyze import Advice, Method, dependent_keys
from pgtune.capture import read_catalog

from .helpers import login_roles
from .test_rls_own_reads import kind_team_proposal
from .test_u13_rls_stats_hidden import tenant_docs

CLAUSE = "whether its keys depend on one another is unknown (row security filters pgtune's reads)"


def test_unknown_dependence_is_said_once(db: str, conn: psycopg.Connection[Any]) -> None:
    with login_roles(conn, "app", "adv") as (app, adv):
        # two existing indexes lead with team: each is a question about (kind, team)'s keys
        tenant_docs(conn, app, adv, sql.SQL("'team' || (g % 50)"), 60_000,
                    extra=("CREATE INDEX docs_team_idx ON tenant.docs (team)",
                           "CREATE INDEX docs_team_title_idx ON tenant.docs (team, title)"))
        with psycopg.connect(make_conninfo(db, user=adv), autocommit=True) as mine:
            catalog = read_catalog(mine)
            assert catalog.policed(("tenant", "docs"))
            s = kind_team_proposal()
            dependent_keys.review(mine, catalog, Advice(method=Method.HYPOPG, indexes=[s]))
        assert s.reason.count(CLAUSE) == 1, s.reason
        assert s.reason == f"serves 1 statement; {CLAUSE}", s.reason
