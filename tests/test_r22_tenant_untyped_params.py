"""r22: the types one tenant's statement needed for its untyped $n are not forced on another tenant's same text.

c23 remembers, by text, the types a refused PREPARE was retried with (param_types.remember). A schema per tenant
sends the same text through each role's search_path: ``unnest(ARRAY[$1, $2]) AS u(x) ON e.account_id = u.x`` is
refused where account_id is an integer (retried typed integer, remembered), and prepares as it is where account_id
is text; planned after the first, the second was prepared typed integer, refused ("operator does not exist: text =
integer") and not retried: cannot-plan, its tenant's 100,000-row table unindexed (PG15), where before c23 it planned.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune.analyze import Options, SkipKind

from .helpers import steady_state, suggest

JOINED = "SELECT e.id FROM events e JOIN unnest(ARRAY[{a}, {b}]) AS u(x) ON e.account_id = u.x"


@pytest.mark.needs_hypopg
def test_same_text_in_two_tenants_of_two_column_types(db: str, conn: psycopg.Connection[Any]) -> None:
    roles = {}
    for schema, type_ in (("t_int", "int"), ("t_txt", "text")):
        role = roles[schema] = f"{schema}_{conn.info.dbname}"
        conn.execute(sql.SQL(
            "CREATE SCHEMA {s}; CREATE TABLE {s}.events (id bigint PRIMARY KEY, account_id {t} NOT NULL, "
            "payload text); INSERT INTO {s}.events SELECT g, (1 + g % 20000)::{t}, md5(g::text) "
            "FROM generate_series(1, 100000) AS g; ANALYZE {s}.events; CREATE ROLE {r} LOGIN; "
            "ALTER ROLE {r} SET search_path = {s}; GRANT USAGE ON SCHEMA {s} TO {r}; "
            "GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {r}").format(
                s=sql.Identifier(schema), t=sql.SQL(type_), r=sql.Identifier(role)))
    steady_state(conn)
    for schema, calls in (("t_int", 40), ("t_txt", 10)):       # t_int's costs more: it is planned first
        with psycopg.connect(db, user=roles[schema], autocommit=True) as app:
            for k in range(1, calls):
                a, b = (k, k + 3) if schema == "t_int" else (f"'{k}'", f"'{k + 3}'")
                app.execute(JOINED.format(a=a, b=b))
    advice = suggest(conn, options=Options(min_rows=1000))
    unplanned = [(s.query[:70], s.reason) for s in advice.skipped if s.kind == SkipKind.CANNOT_PLAN]
    assert not unplanned, unplanned
    assert {(ix.schema, ix.table, ix.columns[0]) for ix in advice.indexes} >= {
        ("t_int", "events", "account_id"), ("t_txt", "events", "account_id")}, advice.indexes


def test_baseline_types_of_the_other_tenants_same_text(conn: psycopg.Connection[Any]) -> None:
    """emit's baseline reads the types the server infers (baseline.param_types) with the remembered ones declared:
    the text tenant's statement got none ([]) once the integer tenant's were remembered."""
    from pgtune.baseline import param_types
    from pgtune.explain import PlanContext, explain

    for schema, type_ in (("b_int", "int"), ("b_txt", "text")):
        conn.execute(sql.SQL("CREATE SCHEMA {s}; CREATE TABLE {s}.events (id bigint, account_id {t})").format(
            s=sql.Identifier(schema), t=sql.SQL(type_)))
    text = "SELECT e.id FROM events e JOIN unnest(ARRAY[$1, $2]) AS b(x) ON e.account_id = b.x"
    assert explain(conn, text, context=PlanContext(search_path=("b_int",))).cost > 0     # retyped, remembered
    assert param_types(conn, text, PlanContext(search_path=("b_txt",))) == ["text", "text"]
    assert param_types(conn, text, PlanContext(search_path=("b_int",))) == ["integer", "integer"]


def test_session_search_path_tenants_same_text(conn: psycopg.Connection[Any]) -> None:
    """A search_path set for the whole session is no PlanContext: the remembered types that fail are forgotten."""
    from pgtune.explain import explain

    for schema, type_ in (("s_int", "int"), ("s_txt", "text")):
        conn.execute(sql.SQL("CREATE SCHEMA {s}; CREATE TABLE {s}.events (id bigint, account_id {t})").format(
            s=sql.Identifier(schema), t=sql.SQL(type_)))
    text = "SELECT e.id FROM events e JOIN unnest(ARRAY[$1, $2]) AS s(x) ON e.account_id = s.x"
    for schema in ("s_int", "s_txt", "s_int"):
        conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
        assert explain(conn, text).cost > 0, schema
