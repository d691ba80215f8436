"""A schema per tenant's same statement, each planned in its own tenant's schema: health's guards, and (without
HypoPG) suggest's targets.

A guard (a statement whose plan uses an index health drops; verify checks it gets no costlier) took its value
scenarios and session from suggest's valuing of the workload, looked up by the statement's text alone
(health.emit._guards). Where each tenant's role runs the same unqualified text in its own schema, every
tenant's guard got the last tenant's record: its search_path, so verify planned one tenant for all of them, and
a drop that slowed another tenant's statement was never looked at.

r18 told suggest's targets apart by (queryid, text); PostgreSQL 18's pg_stat_statements gives the tenants' same
text one queryid (it jumbles a table by its name, not its OID), so there too only the role that ran it tells
them apart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune import api
from pgtune.plan import folder

from .helpers import steady_state

TENANTS = ("t_a", "t_b")
QUERY = "SELECT id, total FROM orders WHERE customer_id = %s AND total > %s"


def _tenants(db: str, conn: psycopg.Connection[Any], indexes: str) -> dict[str, str]:
    """t_a and t_b, each with its orders (and ``indexes``) read by its own role with the same text; their roles."""
    roles = {}
    for schema in TENANTS:
        role = roles[schema] = f"{schema}_{conn.info.dbname}"
        conn.execute(sql.SQL(
            "CREATE SCHEMA {1}; CREATE TABLE {1}.orders (id int PRIMARY KEY, customer_id int NOT NULL, "
            "total int NOT NULL, note text NOT NULL); "
            "INSERT INTO {1}.orders SELECT g, g % 500, g % 1000, repeat(md5(g::text), 6) "
            "FROM generate_series(1, 20000) g; " + indexes + "ANALYZE {1}.orders; "
            "CREATE ROLE {0} LOGIN; ALTER ROLE {0} SET search_path = {1}; GRANT USAGE ON SCHEMA {1} TO {0}; "
            "GRANT SELECT ON ALL TABLES IN SCHEMA {1} TO {0}").format(sql.Identifier(role), sql.Identifier(schema)))
    steady_state(conn)
    for role in roles.values():
        with psycopg.connect(db, user=role, autocommit=True) as app:
            for i in range(20):
                app.execute(QUERY, (i, 100 + i))
    return roles


def test_each_tenants_guard_is_planned_in_its_own_schema(db: str, conn: psycopg.Connection[Any],
                                                         tmp_path: Path) -> None:
    _tenants(db, conn, "CREATE INDEX orders_customer_idx ON {1}.orders (customer_id); "
                       "CREATE INDEX orders_customer_note_idx ON {1}.orders (customer_id, note); ")
    report = api.health(conn, only=["overlapping-index"], emit=api.EmitOptions(directory=tmp_path / "health"))
    assert sorted(f.schema for f in report.findings) == list(TENANTS), [f.message for f in report.findings]
    assert report.migration is not None
    guards = [t for t in folder.load(tmp_path / "health").targets if "customer_id" in t.query]
    assert sorted(tuple(t.search_path or ()) for t in guards) == [("t_a",), ("t_b",)], \
        [(t.queryid, t.search_path) for t in guards]
    assert all(t.scenarios for t in guards), [(t.search_path, t.scenarios) for t in guards]


@pytest.mark.no_hypopg
def test_each_tenants_same_statement_is_a_target_of_its_own(db: str, conn: psycopg.Connection[Any],
                                                            tmp_path: Path) -> None:
    """Heuristic advice (no HypoPG): each tenant's index serves its own tenant's statement, one target each."""
    _tenants(db, conn, "")
    result = api.suggest(conn, api.SuggestOptions(constraints=False),
                         emit=api.EmitOptions(directory=tmp_path / "mig"))
    assert sorted(ix.schema for ix in result.indexes.indexes) == list(TENANTS), result.indexes.hints
    assert result.migration is not None
    targets = [t for t in folder.load(tmp_path / "mig").targets if "customer_id" in t.query]
    assert sorted(tuple(t.search_path or ()) for t in targets) == [("t_a",), ("t_b",)], \
        [(t.queryid, t.search_path, t.expected_indexes) for t in targets]
