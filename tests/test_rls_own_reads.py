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

from pgtune import api
from pgtune.analyze import Options
from pgtune.capture import WorkloadFilter

from .helpers import login_roles
from .test_temporary_probes import errors, traced

pytestmark = pytest.mark.needs_hypopg


def _tenant(conn: psycopg.Connection[Any], app: str, adv: str) -> None:
    conn.execute("CREATE SCHEMA tenant")
    conn.execute("CREATE TABLE tenant.docs (id int PRIMARY KEY, team int NOT NULL, owner int NOT NULL, "
                 "kind int NOT NULL, title text NOT NULL, body text)")
    conn.execute("INSERT INTO tenant.docs SELECT g, g % 50, g % 997, g % 1000, md5(g::text), repeat('x', g % 300) "
                 "FROM generate_series(1, 60000) g")
    conn.execute("ANALYZE tenant.docs")
    conn.execute("ALTER TABLE tenant.docs ENABLE ROW LEVEL SECURITY")
    # The application always sets app.team: its policy has no missing_ok (Documenso's, Cal.com's style).
    conn.execute(sql.SQL("CREATE POLICY t ON tenant.docs TO {} USING (team = current_setting('app.team')::int)")
                 .format(sql.Identifier(app)))
    ids = sql.SQL(", ").join([sql.Identifier(app), sql.Identifier(adv)])
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA tenant TO {}").format(ids))
    conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA tenant TO {}").format(ids))
    conn.execute(sql.SQL("GRANT pg_read_all_stats, {} TO {}").format(sql.Identifier(app), sql.Identifier(adv)))
    conn.execute("SELECT pg_stat_statements_reset()")


def test_no_read_of_pgtune_s_own_is_refused_by_the_application_s_policy(db: str,
                                                                         conn: psycopg.Connection[Any]) -> None:
    with login_roles(conn, "app", "adv") as (app, adv):
        _tenant(conn, app, adv)
        with psycopg.connect(make_conninfo(db, user=app)) as c:
            for i in range(40):
                with c.transaction():
                    c.execute("SELECT set_config('app.team', %s, true)", (str(i % 50),))
                    c.execute("SELECT id FROM tenant.docs WHERE owner = %s AND kind = %s", (i, i), prepare=True)
                    c.execute("SELECT id FROM tenant.docs WHERE title = %s", (f"t{i}",), prepare=True)
                    c.execute("SELECT id FROM tenant.docs WHERE body = %s ORDER BY id LIMIT 5", ("x",), prepare=True)
        with psycopg.connect(make_conninfo(db, user=adv), autocommit=True) as mine, traced(mine) as lines:
            options = api.SuggestOptions(indexes=Options(min_rows=0, workload=WorkloadFilter(roles=(app,))),
                                         constraints=False)
            advice = api.suggest(mine, options).indexes
        assert advice.indexes, advice        # planned as the application: its statements still get their indexes
        assert errors(lines) == [], errors(lines)
        st = next(s for s in advice.statements if "owner" in s.query)
        assert st.planned_as == app and st.settings == {"app.team": "0"}, st     # under the policy, a stand-in team
        assert any("a stand-in for one team" in n for n in st.notes), st.notes
        (hidden,) = [h for h in advice.hints if h.startswith("pg_stats hides")]
        assert "with no tenant value from statistics (a stand-in" in hidden, hidden    # was 'cannot plan them'
