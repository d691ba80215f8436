"""Extended statistics: a filter on correlated columns the planner misestimates gets CREATE STATISTICS.

A project belongs to one tenant, so ``"tenantId" = 5 AND "projectId" = 53``
keeps as many tasks as ``"projectId" = 53`` alone (1,200). The planner
multiplies the two columns' frequencies as if they were independent and
expects 24, so it probes the comments' index once per task in a nested loop;
with dependency statistics on the two columns it expects 1,200 and hashes the
comments instead.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import api, plan
from pgtune.analyze import Advice, Method, extended_stats, filters
from pgtune.analyze.extended_stats import Planned
from pgtune.apply import Applier
from pgtune.capture import read_catalog
from pgtune.explain import PlanContext

from .helpers import steady_state
from .test_migration import squawk_bin

TASKS = """
CREATE TABLE "Task" (id int PRIMARY KEY, "tenantId" int NOT NULL, "projectId" int NOT NULL, title text NOT NULL);
INSERT INTO "Task" SELECT g, g % 50, (g % 50) * 10 + (g / 50) % 5, 'task ' || g FROM generate_series(1, 300000) AS g;
CREATE INDEX "Task_tenantId_idx" ON "Task" ("tenantId");
CREATE TABLE "Comment" (id int PRIMARY KEY, "taskId" int NOT NULL, body text NOT NULL);
INSERT INTO "Comment" SELECT g, 1 + (g * 7919) % 300000, 'ok' FROM generate_series(1, 30000) AS g;
CREATE INDEX "Comment_taskId_idx" ON "Comment" ("taskId");
ANALYZE "Task";
ANALYZE "Comment";
"""
COMMENTS = ('SELECT "public"."Comment"."id", "public"."Task"."title" FROM "public"."Task" INNER JOIN '
            '"public"."Comment" ON "public"."Comment"."taskId" = "public"."Task"."id" '
            'WHERE ("public"."Task"."tenantId" = $1 AND "public"."Task"."projectId" = $2)')


def planned(values: dict[str, str | None]) -> Planned:
    return Planned(COMMENTS, 1, 100, values, cost=1e6)


def test_a_misestimated_pair_gets_statistics_with_the_estimates_and_the_plan_change(
        conn: psycopg.Connection[Any]) -> None:
    conn.execute(TASKS)
    found, notes = extended_stats.propose(conn, read_catalog(conn), [planned({"$1": "5", "$2": "53"})])
    assert notes == []
    assert len(found) == 1, found
    p = found[0]
    assert (p.schema, p.table, p.columns, p.kinds) == ("public", "Task", ["tenantId", "projectId"], ["dependencies"])
    # 1,200 rows match; a third of the table is sampled (SAMPLE_ROWS), so the count is about that.
    assert 800 <= p.sampled_rows <= 1600 and p.sample_share < 0.5
    assert p.estimate_before < 50 and 600 <= p.estimate_after <= 2400
    assert p.plans_before[0].startswith("Nested Loop") and p.plans_after[0].startswith("Hash Join")
    assert p.create == ('CREATE STATISTICS IF NOT EXISTS public."Task_tenantId_projectId_stats"(dependencies) '
                        'ON "tenantId", "projectId" FROM public."Task"')
    assert p.drop == 'DROP STATISTICS IF EXISTS public."Task_tenantId_projectId_stats"'
    assert "independent" in p.reason and "rows where \"tenantId\" = '5' AND \"projectId\" = '53'" in p.reason
    # Nothing of the trial is left behind.
    assert conn.execute("SELECT count(*) FROM pg_statistic_ext").fetchone() == (0,)


def test_independent_columns_are_not_misestimated(conn: psycopg.Connection[Any]) -> None:
    conn.execute(TASKS)
    conn.execute('UPDATE "Task" SET "projectId" = id % 250')     # no longer tied to the tenant
    conn.execute('ANALYZE "Task"')
    found, notes = extended_stats.propose(conn, read_catalog(conn), [planned({"$1": "5", "$2": "53"})])
    assert found == [] and notes == []


def test_a_statement_without_values_for_its_filters_is_not_judged(conn: psycopg.Connection[Any]) -> None:
    conn.execute(TASKS)
    found, notes = extended_stats.propose(conn, read_catalog(conn), [planned({"$1": "5"})])
    assert found == [] and notes == []


def test_statistics_that_exist_already_are_not_proposed_again(conn: psycopg.Connection[Any]) -> None:
    conn.execute(TASKS)
    conn.execute('CREATE STATISTICS "Task_pair" (ndistinct) ON "projectId", "tenantId" FROM "Task"')
    conn.execute('ANALYZE "Task"')
    found, notes = extended_stats.propose(conn, read_catalog(conn), [planned({"$1": "5", "$2": "53"})])
    assert found == []
    assert notes and "extended statistics exist" in notes[0]


def test_suggest_emits_a_statistics_phase_that_applies_changes_the_plan_and_rolls_back(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(TASKS)
    steady_state(conn)
    with psycopg.connect(db, autocommit=True) as app:      # the application's session, sampled by pg_qualstats
        for tenant in (5, 7, 9, 11):
            for k in range(5):
                app.execute(COMMENTS.replace("$1", "%s").replace("$2", "%s"), (tenant, tenant * 10 + k)).fetchall()
    result = api.suggest(conn, api.SuggestOptions(constraints=False), emit=api.EmitOptions(directory=tmp_path / "m"))
    assert [s.columns for s in result.indexes.statistics] == [["tenantId", "projectId"]], result.indexes.hints
    m = result.migration
    assert m is not None
    phase = next(p for p in m.phases if p.step == plan.PhaseStep.STATISTICS)
    up = (tmp_path / "m" / phase.up_file).read_text()
    assert 'CREATE STATISTICS IF NOT EXISTS public."Task_tenantId_projectId_stats"(dependencies)' in up
    assert 'ANALYZE public."Task";' in up
    down = (tmp_path / "m" / phase.down_file).read_text()
    assert 'DROP STATISTICS IF EXISTS public."Task_tenantId_projectId_stats";' in down
    squawk = subprocess.run([squawk_bin(), f"--pg-version={conn.info.server_version // 10000}",
                             str(tmp_path / "m" / phase.up_file), str(tmp_path / "m" / phase.down_file)],
                            capture_output=True, text=True)
    assert squawk.returncode == 0, squawk.stdout + squawk.stderr
    applier = Applier(conn, tmp_path / "m")
    applier.apply(phases=[phase.number])
    assert conn.execute("SELECT stxname FROM pg_statistic_ext").fetchall() == [("Task_tenantId_projectId_stats",)]
    plan_now = conn.execute("EXPLAIN " + COMMENTS.replace("$1", "5").replace("$2", "53")).fetchall()
    assert plan_now[0][0].startswith("Hash Join"), plan_now
    assert applier.status().phases[phase.number - 1].missing == []
    applier.rollback(phases=[phase.number])
    assert conn.execute("SELECT count(*) FROM pg_statistic_ext").fetchone() == (0,)


def test_rollback_leaves_statistics_pgtune_did_not_create(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(TASKS)
    proposal = extended_stats.propose(conn, read_catalog(conn), [planned({"$1": "5", "$2": "53"})])[0][0]
    advice = Advice(method=Method.HYPOPG, statistics=[proposal])
    m = plan.build(advice)
    plan.emit(m, tmp_path / "m")
    conn.execute(proposal.create.replace(" IF NOT EXISTS", ""))          # someone else's, same definition
    applier = Applier(conn, tmp_path / "m")
    applier.apply()
    applier.rollback()
    assert conn.execute("SELECT stxname FROM pg_statistic_ext").fetchall() == [("Task_tenantId_projectId_stats",)]


def test_only_filters_on_two_columns_or_more_are_printed(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The pass reads filters on two columns or more: one on a single column is never printed (issue 28: printing
    every term of every statement was most of this pass's CPU), and the two-column one is read as before."""
    conn.execute('CREATE TABLE "Task" (id int PRIMARY KEY, "tenantId" int, "projectId" int, title text);'
                 'CREATE TABLE "Comment" (id int PRIMARY KEY, "taskId" int, body text)')
    seen: list[str] = []
    real = filters.printed

    def counted(node: Any) -> str:
        seen.append(real(node))
        return seen[-1]
    monkeypatch.setattr(filters, "printed", counted)
    found = filters.table_filters(
        'SELECT c.id FROM "Task" t JOIN "Comment" c ON c."taskId" = t.id '
        'WHERE t."tenantId" = $1 AND t."projectId" = $2 AND c.body = $3', read_catalog(conn), min_columns=2)
    assert [(f.table[1], f.columns, f.terms) for f in found] == [
        ("Task", ("tenantId", "projectId"), ('"tenantId" = $1', '"projectId" = $2'))]
    assert seen == ['"tenantId" = $1', '"projectId" = $2']


def test_a_cast_to_the_application_schemas_enum_is_read_with_the_statements_search_path(
        conn: psycopg.Connection[Any]) -> None:
    """p12: a Prisma app's role (search_path app) filtered on CAST($3::text AS "TaskState"), its schema's enum.
    The sample ran the filters with pgtune's own search_path: 'type "TaskState" does not exist', an ERROR in the
    server's log, and the pair was never judged."""
    conn.execute("CREATE SCHEMA app; SET search_path = app; CREATE TYPE \"TaskState\" AS ENUM ('open', 'done');"
                 + TASKS + "ALTER TABLE \"Task\" ADD state \"TaskState\" NOT NULL DEFAULT 'open'; ANALYZE \"Task\"; "
                 "RESET search_path")
    text = ('SELECT "Comment"."id", "Task"."title" FROM "Task" INNER JOIN "Comment" ON "Comment"."taskId" = '
            '"Task"."id" WHERE ("Task"."tenantId" = $1 AND "Task"."projectId" = $2 AND "Task"."state" = '
            'CAST($3::text AS "TaskState"))')
    st = Planned(text, 1, 100, {"$1": "5", "$2": "53", "$3": "open"}, PlanContext(search_path=("app",)), cost=1e6,
                 search_path=("app",))
    found, notes = extended_stats.propose(conn, read_catalog(conn), [st])
    assert notes == []
    assert len(found) == 1, found
    assert (found[0].schema, found[0].table) == ("app", "Task")
    assert found[0].plans_before[0].startswith("Nested Loop") and found[0].plans_after[0].startswith("Hash Join")


def test_a_table_pgtunes_role_does_not_own_is_not_tried(conn: psycopg.Connection[Any],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """p12: run as a least-privilege role (docs/roles.md), the trial's CREATE STATISTICS failed with 'must be owner
    of table', an ERROR in the server's log each suggest: the ownership is read first, the trial not asked."""
    conn.execute(TASKS)
    conn.execute("CREATE ROLE p12_reader; GRANT SELECT ON \"Task\", \"Comment\" TO p12_reader; SET ROLE p12_reader")

    def trial(*_a: object) -> None:
        raise AssertionError("CREATE STATISTICS asked on a table the role does not own")

    monkeypatch.setattr(extended_stats, "_trial", trial)
    try:
        found, notes = extended_stats.propose(conn, read_catalog(conn), [planned({"$1": "5", "$2": "53"})])
    finally:
        conn.execute("RESET ROLE; DROP OWNED BY p12_reader; DROP ROLE p12_reader")
    assert found == []
    assert notes == ['extended statistics on public."Task" not tried: pgtune\'s role does not own the table '
                     '(CREATE STATISTICS and ANALYZE need its owner)']
