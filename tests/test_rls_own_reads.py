"""pgtune's own reads of a table whose row security applies to its login (p12 F7, a Documenso-shaped database).

docs/roles.md grants the application's role to pgtune's, so that statements are
planned as the application runs them (SET LOCAL ROLE). Membership also puts the
application's policies on pgtune's own reads: a policy calling
``current_setting('app.team')`` without its missing_ok fails outside the
application's sessions, and each key sample, sampled row and width probe of the
table was an ERROR in the server's log (10 a suggest), its answer lost anyway.
Reads whose policies apply to pgtune itself (row_security_active) are not made;
what they would have told comes from the catalog, as for a table whose
statistics row security hides.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pgtune import api, ddl
from pgtune.analyze import Advice, IndexSuggestion, Method, Options, dependent_keys
from pgtune.analyze.candidates import Candidate
from pgtune.analyze.footprint import Footprint
from pgtune.capture import WorkloadFilter, read_catalog
from pgtune.ddl import IndexKey

from .helpers import login_roles
from .test_temporary_probes import errors, traced
from .test_u13_rls_stats_hidden import tenant_docs

pytestmark = pytest.mark.needs_hypopg


def _tenant(conn: psycopg.Connection[Any], app: str, adv: str, rows: int = 60_000) -> None:
    """test_u13's tenant.docs, its policy without missing_ok: the application always sets app.team (Documenso's,
    Cal.com's style), and the policy fails in a session that has not."""
    tenant_docs(conn, app, adv, sql.SQL("'team' || (g % 50)"), rows)
    conn.execute("DROP POLICY t ON tenant.docs")
    conn.execute(sql.SQL("CREATE POLICY t ON tenant.docs TO {} USING (team = current_setting('app.team'))")
                 .format(sql.Identifier(app)))


def test_no_read_of_pgtune_s_own_is_refused_by_the_application_s_policy(db: str,
                                                                         conn: psycopg.Connection[Any]) -> None:
    with login_roles(conn, "app", "adv") as (app, adv):
        _tenant(conn, app, adv)
        with psycopg.connect(make_conninfo(db, user=app)) as c:
            for i in range(40):
                with c.transaction():
                    c.execute("SELECT set_config('app.team', %s, true)", (f"team{i % 50}",))
                    c.execute("SELECT id FROM tenant.docs WHERE kind = %s AND title = %s", (i, "x"), prepare=True)
                    c.execute("SELECT id FROM tenant.docs WHERE team = %s AND kind = %s AND title = %s",
                              (f"team{i % 50}", i, "y"), prepare=True)
                    c.execute("SELECT id FROM tenant.docs WHERE title = %s ORDER BY id LIMIT 5", ("x",), prepare=True)
        with psycopg.connect(make_conninfo(db, user=adv), autocommit=True) as mine, traced(mine) as lines:
            options = api.SuggestOptions(indexes=Options(min_rows=0, workload=WorkloadFilter(roles=(app,))),
                                         constraints=False)
            advice = api.suggest(mine, options).indexes
        assert advice.indexes, advice        # planned as the application: its statements still get their indexes
        assert errors(lines) == [], errors(lines)
        st = next(s for s in advice.statements if "kind" in s.query and "team" not in s.query)
        assert st.planned_as == app and st.settings == {"app.team": "pgtune"}, st   # a stand-in team
        assert any("a stand-in for one team" in n for n in st.notes), st.notes
        (hidden,) = [h for h in advice.hints if h.startswith("pg_stats hides")]
        assert "with no tenant value from statistics (a stand-in" in hidden, hidden    # was 'cannot plan them'


def kind_team_proposal() -> IndexSuggestion:
    """A proposed (kind, team) on tenant.docs, as suggest would hand it to dependent_keys.review."""
    return IndexSuggestion("tenant", "docs", "docs_kind_team_idx", ["kind", "team"], [False, False],
                           ddl.create_index("tenant", "docs", "docs_kind_team_idx",
                                            (IndexKey("kind"), IndexKey("team"))),
                           ddl.drop_index("tenant", "docs_kind_team_idx"), ddl.analyze("tenant", "docs"),
                           "serves 1 statement")


def test_no_dependent_key_sample_of_a_table_row_security_filters_for_pgtune(db: str,
                                                                           conn: psycopg.Connection[Any]) -> None:
    with login_roles(conn, "app", "adv") as (app, adv):
        _tenant(conn, app, adv)
        with psycopg.connect(make_conninfo(db, user=adv), autocommit=True) as mine:
            catalog = read_catalog(mine)
            assert catalog.policed(("tenant", "docs"))
            s = kind_team_proposal()
            with traced(mine) as lines:
                dependent_keys.review(mine, catalog, Advice(method=Method.HYPOPG, indexes=[s]))
        assert errors(lines) == [], errors(lines)
        assert "row security filters pgtune's reads" in s.reason, s.reason


def test_no_key_sample_of_a_table_row_security_filters_for_pgtune(db: str, conn: psycopg.Connection[Any]) -> None:
    """The size forecast of a candidate there comes from the catalog, as where pg_stats is hidden: no sample."""
    with login_roles(conn, "app", "adv") as (app, adv):
        _tenant(conn, app, adv, 150_000)      # over footprint.SAMPLE_ROWS: a two-key forecast is sampled
        with psycopg.connect(make_conninfo(db, user=adv), autocommit=True) as mine:
            footprint = Footprint(mine, read_catalog(mine), 0.0)
            cand = Candidate(("tenant", "docs"), (IndexKey("kind"), IndexKey("title")), 2)
            with traced(mine) as lines:
                footprint.prefetch([cand])
                forecast = footprint.forecast(cand)
        assert errors(lines) == [], errors(lines)
        assert forecast > 0

