"""The LIMIT trap where the equality is not in the statement's text (l39): a row security policy pins the tenant.

Documenso's envelope list (documenso/documenso, packages/prisma/schema.prisma: Envelope keeps @@index([teamId]) and
@@index([createdAt])) as an application that sets its tenant for row security (Prisma's RLS client extension:
``set_config('app.team_id', ...)`` then the query) runs it: ``SELECT ... FROM "Envelope" ORDER BY "createdAt" DESC
LIMIT $1``. The policy ``"teamId" = current_setting('app.team_id')::int`` pins every call to one team as
``WHERE "teamId" = $1`` would (l38's trap): the backward scan of ("createdAt") stops early for the big team and
reads the whole index for a small one whose envelopes are old.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.types.numeric import Int4

from pgtune import api
from pgtune.analyze import Advice, Options, blind_sort
from pgtune.capture import WorkloadFilter

from .helpers import login_roles, suggest

# Documenso-shaped: team 1 holds 60% of 24,000 envelopes over three years; 1,200 small teams 8 each, all from the
# first year (teams that signed up, sent a few documents, then went quiet). Under ANALYZE's 30,000-row sample.
ENVELOPES = """
CREATE TABLE "Envelope" (
    "id" text PRIMARY KEY,
    "teamId" int NOT NULL,
    "userId" int NOT NULL,
    "title" text NOT NULL,
    "status" text NOT NULL DEFAULT 'DRAFT',
    "createdAt" timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deletedAt" timestamptz(3)
);
INSERT INTO "Envelope"
SELECT 'env' || row_number() OVER (ORDER BY at), team, team * 10 + n % 7, 'Contract ' || n,
       CASE WHEN n % 5 = 0 THEN 'COMPLETED' ELSE 'PENDING' END, at, NULL
FROM (SELECT 1 AS team, g AS n, timestamptz '2023-01-01' + (g * 7919 % 14400) * interval '109 minutes' AS at
      FROM generate_series(1, 14400) g
      UNION ALL
      SELECT 1 + t, t * 8 + k, timestamptz '2023-01-01' + ((t * 104729 + k * 7907) % 4800) * interval '109 minutes'
      FROM generate_series(1, 1200) t, generate_series(1, 8) k) e
ORDER BY at;
ANALYZE "Envelope";
"""
LIST = 'SELECT "id", "title", "status", "createdAt" FROM "Envelope" ORDER BY "createdAt" DESC LIMIT %s'


def _policed(conn: psycopg.Connection[Any], app: str, table: str = "Envelope", column: str = "teamId",
             setting: str = "app.team_id", readable: tuple[str, ...] = ("Envelope",)) -> None:
    """Row security on ``table``: ``app`` sees the rows whose ``column`` is the session's ``setting``."""
    conn.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(sql.Identifier(table)))
    conn.execute(sql.SQL("CREATE POLICY pinned ON {} TO {} USING ({} = current_setting({})::int)").format(
        sql.Identifier(table), sql.Identifier(app), sql.Identifier(column), sql.Literal(setting)))
    conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(sql.SQL(", ").join(map(sql.Identifier, readable)),
                                                            sql.Identifier(app)))
    conn.execute("SELECT pg_stat_statements_reset()")


def _workload(dsn: str) -> None:
    """The envelope list of team 1 (three calls of five) and of small teams, as the application's role."""
    with psycopg.connect(dsn, autocommit=True) as app:
        for i in range(40):
            team = 1 if i % 5 < 3 else 2 + i * 37 % 1200
            app.execute("SELECT set_config('app.team_id', %s, false)", (str(team),))
            app.execute(LIST, (Int4(20),), prepare=True).fetchall()


@pytest.mark.needs_hypopg
def test_a_tenant_pinned_by_row_security_gets_the_composite(db: str, conn: psycopg.Connection[Any]) -> None:
    with login_roles(conn, "app") as (app,):
        conn.execute(ENVELOPES)
        _policed(conn, app)
        _workload(make_conninfo(db, user=app))
        options = api.SuggestOptions(indexes=Options(min_rows=0, workload=WorkloadFilter(roles=(app,))),
                                     constraints=False)
        advice = api.suggest(conn, options).indexes
        keys = [(ix.columns, ix.descending) for ix in advice.indexes if ix.table == "Envelope"]
        assert (["teamId", "createdAt"], [False, True]) in keys, keys
        assert not [c for c, _ in keys if c[0] == "createdAt"], keys


# cal.com's Membership (calcom/cal.com, packages/prisma/schema.prisma): a user's teams. Team 1's 200 members see its
# 14,400 envelopes, each small team's 3 members its 8.
MEMBERS = """
CREATE TABLE "Membership" (
    "id" serial PRIMARY KEY,
    "teamId" int NOT NULL,
    "userId" int NOT NULL,
    "accepted" boolean NOT NULL DEFAULT false,
    "role" text NOT NULL DEFAULT 'MEMBER'
);
INSERT INTO "Membership" ("teamId", "userId", "accepted")
SELECT 1, u, true FROM generate_series(1, 200) u
UNION ALL SELECT 1 + t, 1000 + t * 3 + k, true FROM generate_series(1, 1200) t, generate_series(0, 2) k;
ANALYZE "Membership";
"""
# The envelopes of the teams a user belongs to, newest first (Documenso lists them through Kysely).
JOINED = ('SELECT e."id", e."title", e."createdAt" FROM "Envelope" e JOIN "Membership" m ON m."teamId" = e."teamId" '
          'WHERE m."userId" = %s ORDER BY e."createdAt" DESC LIMIT %s')
# The same through Prisma's relation filter (``where: { team: { members: { some: { userId } } } }``): a semi-join.
RELATED = ('SELECT "public"."Envelope"."id", "public"."Envelope"."createdAt" FROM "public"."Envelope" '
           'WHERE ("public"."Envelope"."teamId") IN (SELECT "t1"."teamId" FROM "public"."Membership" AS "t1" '
           'WHERE ("t1"."userId" = %s AND "t1"."teamId" IS NOT NULL)) ORDER BY "public"."Envelope"."createdAt" DESC '
           'LIMIT %s')
# All envelopes, newest first, with the viewer's role where the viewer is a member: the equality pins no envelope.
LOOKUP = ('SELECT e."id", e."title", e."createdAt", m."role" FROM "Envelope" e LEFT JOIN "Membership" m '
          'ON m."teamId" = e."teamId" AND m."userId" = %s ORDER BY e."createdAt" DESC LIMIT %s')


def _calls(conn: psycopg.Connection[Any], db: str, query: str) -> None:
    """``query`` for team 1's members (three calls of five) and small teams' members, as a Prisma pool prepares it."""
    conn.execute(ENVELOPES)
    conn.execute(MEMBERS)
    conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(db, autocommit=True) as app:
        for i in range(40):
            user = 1 + i * 7 % 200 if i % 5 < 3 else 1000 + (1 + i * 37 % 1200) * 3
            app.execute(query, (Int4(user), Int4(20)), prepare=True).fetchall()


def _on_envelope(advice: Advice) -> list[list[str]]:
    return [ix.columns for ix in advice.indexes if ix.table == "Envelope"]


@pytest.mark.needs_hypopg
@pytest.mark.parametrize("query", [JOINED, RELATED], ids=["join", "prisma_in"])
def test_a_tenant_pinned_through_a_join_gets_no_sort_only_index(conn: psycopg.Connection[Any], db: str,
                                                                query: str) -> None:
    """Measured on this data: with ("createdAt") every user's call walks it backward (the join's estimate is every
    user's alike, custom plans too): a small team's member read 528 buffers (11-16 ms) where the sequential scan
    without the index reads 241 (2.7-2.9 ms); with ("teamId", "createdAt" DESC) 13 (0.02 ms). The IN form: the same."""
    _calls(conn, db, query)
    keys = _on_envelope(suggest(conn, options=Options(min_rows=0)))
    assert not [k for k in keys if k[0] == "createdAt"], keys
    assert [k for k in keys if k[0] == "teamId"], keys       # the team's rows: 13 buffers for a small team


@pytest.mark.needs_hypopg
def test_an_outer_joined_equality_keeps_the_sort_index(conn: psycopg.Connection[Any], db: str) -> None:
    """The equality is the LEFT JOIN's: every envelope is listed, the walk of ("createdAt") stops after 20 (a rule
    that took any equality of a joined table for a pin fails here)."""
    _calls(conn, db, LOOKUP)
    keys = _on_envelope(suggest(conn, options=Options(min_rows=0)))
    assert [k for k in keys if k[0] == "createdAt"], keys


@pytest.mark.parametrize(("query", "pinning"), [
    (RELATED.replace("%s", "$1"), {"Envelope", "t1"}),
    ('SELECT e.id FROM "Envelope" e WHERE NOT EXISTS (SELECT 1 FROM "Hidden" h WHERE h."envelopeId" = e.id '
     'AND h."userId" = $1) ORDER BY e."createdAt" DESC LIMIT 20', {"e"}),
    ('SELECT e.id, (SELECT count(*) FROM "Recipient" r WHERE r."envelopeId" = e.id AND r.email = $1) FROM '
     '"Envelope" e ORDER BY e."createdAt" DESC LIMIT 20', {"e"}),
    (LOOKUP.replace("%s", "$1"), {"e"}),
])
def test_which_tables_filter_the_sorted_rows(query: str, pinning: set[str]) -> None:
    """Only an inner join's or an AND-ed IN/EXISTS's tables filter the rows sorted (a hidden-items NOT EXISTS, a
    per-row count or a LEFT JOIN do not: the walk of the sort index stops after LIMIT rows there)."""
    assert blind_sort._pinning(query) == pinning


@pytest.mark.needs_hypopg
def test_a_joined_table_pinned_by_row_security(db: str, conn: psycopg.Connection[Any]) -> None:
    """The user is the policy's (``"userId" = current_setting('app.user_id')::int`` on Membership): the statement
    has no $n, its plan is made once for the first call's user and kept, walking ("createdAt") as with ``= $1``."""
    query = ('SELECT e."id", e."title", e."createdAt" FROM "Envelope" e JOIN "Membership" m ON m."teamId" = e."teamId" '
             'ORDER BY e."createdAt" DESC LIMIT %s')
    with login_roles(conn, "app") as (app,):
        conn.execute(ENVELOPES)
        conn.execute(MEMBERS)
        _policed(conn, app, "Membership", "userId", "app.user_id", ("Envelope", "Membership"))
        with psycopg.connect(make_conninfo(db, user=app), autocommit=True) as c:
            for i in range(40):
                user = 1 + i * 7 % 200 if i % 5 < 3 else 1000 + (1 + i * 37 % 1200) * 3
                c.execute("SELECT set_config('app.user_id', %s, false)", (str(user),))
                c.execute(query, (Int4(20),), prepare=True).fetchall()
        options = api.SuggestOptions(indexes=Options(min_rows=0, workload=WorkloadFilter(roles=(app,))),
                                     constraints=False)
        keys = _on_envelope(api.suggest(conn, options).indexes)
        assert not [k for k in keys if k[0] == "createdAt"], keys
