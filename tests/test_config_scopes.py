"""Issue 26, work_mem's and maintenance_work_mem's scopes on a live load, on a cluster of this module's own.

Spills everywhere get one server-wide work_mem (the memory budget carries it);
a few statements of a role get SET LOCAL advice, which the application then
follows; CREATE INDEX spilling under maintenance_work_mem gets a larger one.
Each: provoke, propose, apply (or follow), run the same load again, see the
symptom gone, roll back exactly (helpers from tests/test_config_symptoms.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from pgtune import api
from pgtune.cluster import LocalCluster, find_bindir
from pgtune.config import Scope, Symptom
from pgtune.config.verify import Outcome

from .test_config_symptoms import HARDWARE, SETTINGS, app, around, changed_since, propose_apply_verify, server_state


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    bindir = os.environ.get("PGTUNE_PG_BINDIR")
    c = LocalCluster(Path(bindir) if bindir else find_bindir(),
                     settings={**SETTINGS, "maintenance_work_mem": "1MB"}).start()
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def dsn(cluster: LocalCluster) -> Iterator[str]:
    name = "scopes"
    with psycopg.connect(cluster.dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(cluster.dsn_for(name), autocommit=True) as c:
        c.execute("CREATE EXTENSION pg_stat_statements")
        c.execute("CREATE TABLE big AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 200000) g")
        for role in ("alice", "bob", "clerk"):
            c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
            c.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
            c.execute(sql.SQL("GRANT SELECT ON big TO {}").format(sql.Identifier(role)))
    yield cluster.dsn_for(name)
    with psycopg.connect(cluster.dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        for role in ("alice", "bob", "clerk"):
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_queries_of_every_role_spilling_get_one_server_wide_work_mem(dsn: str, cluster: LocalCluster,
                                                                    tmp_path: Path) -> None:
    def load() -> None:
        with app(dsn, "alice") as a, app(dsn, "bob") as b:
            for _ in range(2):
                a.execute("SELECT count(*) FROM (SELECT t FROM big ORDER BY t OFFSET 1) s").fetchone()
                b.execute("SELECT count(*) FROM (SELECT t, id FROM big ORDER BY t DESC, id OFFSET 1) s").fetchone()

    with app(dsn) as conn:
        p, check, _ = propose_apply_verify(conn, cluster, tmp_path, load, Symptom.TEMP_SPILL)
    assert (p.setting, p.scope, p.role) == ("work_mem", Scope.RELOAD, None)
    assert p.evidence["roles"] == ["alice", "bob"] and p.evidence["spilling_share_of_query_time"] >= 0.9
    assert p.evidence["budget_cap"] >= int(p.value.removesuffix("MB")) << 20
    assert check.before["temp_bytes"] > 0 and check.now["temp_bytes"] == 0 and check.outcome == Outcome.GONE


CLERK_QUERIES = ["SELECT id FROM big WHERE id = %s" + " AND id > 0" * i for i in range(12)]   # 12 shapes
REPORT = "SELECT count(*) FROM (SELECT t FROM big ORDER BY t OFFSET 1) s"


def test_one_spilling_statement_of_a_busy_role_gets_set_local_advice_and_following_it_ends_the_spill(
        dsn: str, cluster: LocalCluster) -> None:
    def load(advised: str | None) -> None:
        with app(dsn, "clerk") as c:
            for i, q in enumerate(CLERK_QUERIES * 3):
                c.execute(q, (i,)).fetchall()
            if advised is None:
                c.execute(REPORT).fetchone()
            else:                                   # the application does what the advice says
                with c.transaction():
                    c.execute(sql.SQL("SET LOCAL work_mem = {}").format(sql.Literal(advised)))
                    c.execute(REPORT).fetchone()

    with app(dsn) as conn:
        start = server_state(conn, cluster)
        report = api.config(conn, HARDWARE, evidence=around(conn, lambda: load(None)))
        assert not [p for p in report.proposals if p.setting == "work_mem"]
        (advice,) = [a for a in report.advice if a.symptom == Symptom.TEMP_SPILL]
        assert advice.evidence["role"] == "clerk" and advice.evidence["role_queries"] == 13
        assert "SET LOCAL work_mem" in advice.title and "ORDER BY t" in advice.what_changes[0]
        queryid = advice.evidence["statements"][0]["queryid"]
        again = around(conn, lambda: load(advice.evidence["work_mem"]))
        ran = [s for s in again.statements if s.queryid == queryid]
        assert ran and ran[0].calls == 1 and ran[0].temp_blks_written == 0
        after = api.config(conn, HARDWARE, evidence=again)
        assert not [a for a in after.advice if a.symptom == Symptom.TEMP_SPILL]
        assert changed_since(conn, cluster, start) == []          # advice changes no setting


def test_create_index_spilling_under_maintenance_work_mem_gets_a_larger_one(dsn: str, cluster: LocalCluster,
                                                                           tmp_path: Path) -> None:
    def load() -> None:
        with app(dsn) as c:
            c.execute("CREATE INDEX big_t_idx ON big (t)")
            c.execute("DROP INDEX big_t_idx")

    with app(dsn) as conn:
        p, check, _ = propose_apply_verify(conn, cluster, tmp_path, load, Symptom.TEMP_SPILL)
    assert (p.setting, p.scope, p.current) == ("maintenance_work_mem", Scope.RELOAD, "1MB")
    assert "CREATE INDEX" in p.evidence["statements"][0]["query"] and p.evidence["temp_bytes"] > 1 << 20
    # a parallel build (the default: 2 maintenance workers) still hands its workers' sorted runs to the leader
    # through temporary files, at most about half of what the external sort wrote; a serial one writes none
    assert check.outcome == Outcome.GONE, check
    assert check.now["temp_bytes"] == 0 or (check.now["temp_bytes"] <= 0.6 * check.before["largest_spill_per_call"]
                                            and "hand-off" in check.note), check
