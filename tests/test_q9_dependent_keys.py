"""A key of a proposal that its other keys determine is taken out of it (q9, Trigger.dev).

The greedy chose ("projectId", "taskIdentifier", "runtimeEnvironmentId",
status) for the PENDING_VERSION lookup: the environment decides the project, so
"projectId" as a key finds no row the others do not (the planner took the two
as independent and credited it). dependent_keys caught such a key only beside
an existing index's keys; now each proposal's own keys are sampled too.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.analyze.dependent_keys import review
from pgtune.analyze.model import Advice, AnalyzedStatement, IndexSuggestion, Method
from pgtune.capture import read_catalog

SCHEMA = """
CREATE TABLE "TaskRun" (id text PRIMARY KEY, "runtimeEnvironmentId" text NOT NULL, "projectId" text NOT NULL,
  "taskIdentifier" text NOT NULL, "idempotencyKey" text, status text NOT NULL, region text NOT NULL);
CREATE UNIQUE INDEX "TaskRun_runtimeEnvironmentId_taskIdentifier_idempotencyKey_key"
  ON "TaskRun" ("runtimeEnvironmentId", "taskIdentifier", "idempotencyKey");
INSERT INTO "TaskRun" SELECT 'cm' || g, 'env_' || (g * 7919 % 60), 'proj_' || (g * 7919 % 60 / 2), 'task-' || (g % 25),
  CASE WHEN g % 10 = 1 THEN 'idem_' || g END,
  (ARRAY['PENDING', 'EXECUTING', 'COMPLETED_SUCCESSFULLY', 'PENDING_VERSION'])[1 + abs(hashint4(g)) % 4],
  'r' || (g * 31 % 7)
FROM generate_series(1, 100000) g;
ANALYZE "TaskRun";
"""

LOOKUP = ('SELECT "public"."TaskRun"."id" FROM "public"."TaskRun" '
          'WHERE ("public"."TaskRun"."runtimeEnvironmentId" = $1 AND "public"."TaskRun"."projectId" = $2 '
          'AND "public"."TaskRun"."status" = $3 '
          'AND "public"."TaskRun"."taskIdentifier" = ANY($4))')


def _proposal(*columns: str) -> IndexSuggestion:
    name = "TaskRun_" + "_".join(columns) + "_idx"
    return IndexSuggestion("public", "TaskRun", name, list(columns), [False] * len(columns),
                           f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ...', "", "", "planned")


def _reviewed(conn: psycopg.Connection[Any], *proposals: IndexSuggestion) -> tuple[Advice, AnalyzedStatement]:
    """The schema loaded, the lookup served by the first proposal, and dependent_keys' review of them all."""
    conn.execute(SCHEMA)
    lookup = AnalyzedStatement(1, LOOKUP, 500, 3.0, cost_before=9000.0, cost_after=12.0,
                               indexes=[proposals[0].name])
    advice = Advice(Method.HYPOPG, indexes=list(proposals), statements=[lookup])
    review(conn, read_catalog(conn), advice)
    return advice, lookup


def test_a_key_the_others_determine_is_left_out(conn: psycopg.Connection[Any]) -> None:
    chosen = _proposal("projectId", "taskIdentifier", "runtimeEnvironmentId", "status")
    independent = _proposal("region", "taskIdentifier", "runtimeEnvironmentId", "status")
    old = chosen.name
    advice, lookup = _reviewed(conn, chosen, independent)
    assert [s.columns for s in advice.indexes] == [["taskIdentifier", "runtimeEnvironmentId", "status"],
                                                   ["region", "taskIdentifier", "runtimeEnvironmentId", "status"]]
    narrowed = advice.indexes[0]
    assert narrowed.name == "TaskRun_taskIdentifier_runtimeEnvironmentId_status_idx"
    assert narrowed.ddl == ('CREATE INDEX CONCURRENTLY IF NOT EXISTS "TaskRun_taskIdentifier_runtimeEnvironmentId_'
                            'status_idx" ON public."TaskRun" ("taskIdentifier", "runtimeEnvironmentId", status)')
    assert narrowed.rollback.endswith('public."TaskRun_taskIdentifier_runtimeEnvironmentId_status_idx"')
    assert '"projectId" left out' in narrowed.reason
    (hint,) = advice.hints
    assert hint.startswith(f"{old} narrowed to {narrowed.name}"), hint
    assert 'CREATE STATISTICS (dependencies) ON "projectId"' in hint, hint
    # the lookup it served names the narrower index and is planned again with it (analyze.replan)
    assert lookup.indexes == [narrowed.name] and advice.replan == [lookup]
    assert conn.execute("SHOW transaction_read_only").fetchone() == ("off",)


def test_another_proposal_with_the_rest_withdraws_it(conn: psycopg.Connection[Any]) -> None:
    chosen = _proposal("projectId", "taskIdentifier", "runtimeEnvironmentId", "status")
    wider = _proposal("taskIdentifier", "runtimeEnvironmentId", "status", "region")
    advice, lookup = _reviewed(conn, chosen, wider)
    assert advice.indexes == [wider] and lookup.cost_after == lookup.cost_before, advice.hints
    assert len(advice.hints) == 1, advice.hints
    (hint,) = advice.hints
    assert hint.startswith(f"{chosen.name} withdrawn: \"projectId\" is determined by"), hint
    assert hint.endswith(f"and {wider.name} leads with the rest"), hint


def test_a_skewed_key_that_finds_the_rare_rows_stays(conn: psycopg.Connection[Any]) -> None:
    """r10: a status 99% one value adds few combinations, so the sample read it as determined by the others,
    though a statement after the rare status needs it as a key (a queue's PENDING among COMPLETED)."""
    conn.execute(SCHEMA)
    conn.execute("""UPDATE "TaskRun" SET status = CASE WHEN substr(id, 3)::int % 1000 = 1 THEN 'PENDING'
                    ELSE 'COMPLETED_SUCCESSFULLY' END""")     # 0.1% pending, all of task-1: few more combinations
    conn.execute('ANALYZE "TaskRun"')
    chosen = _proposal("runtimeEnvironmentId", "status", "taskIdentifier")
    lookup = AnalyzedStatement(1, LOOKUP, 500, 3.0, cost_before=9000.0, cost_after=12.0, indexes=[chosen.name])
    advice = Advice(Method.HYPOPG, indexes=[chosen], statements=[lookup])
    review(conn, read_catalog(conn), advice)
    assert [s.columns for s in advice.indexes] == [["runtimeEnvironmentId", "status", "taskIdentifier"]]
