"""A b-tree proposal whose only key beyond an existing index's is a column the others determine is withdrawn.

Found on a job-queue database (Trigger.dev-shaped, 350k runs): the
PENDING_VERSION lookup filters "runtimeEnvironmentId", "projectId" (which the
environment decides), status and "taskIdentifier" IN (...). The existing
unique (runtimeEnvironmentId, taskIdentifier, idempotencyKey) serves it;
suggest proposed (projectId, taskIdentifier, runtimeEnvironmentId) for a 37x
planner cost cut that rested on the planner taking project and environment as
independent (index condition estimate 157 rows, 2,581 read), and measured, the
lookup got slower with it (36 -> 67 ms). The review runs on the real table's
sample and the real catalog.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.analyze.dependent_keys import review
from pgtune.analyze.model import Advice, IndexSuggestion, Method
from pgtune.capture import read_catalog

SCHEMA = """
CREATE TABLE "TaskRun" (id text PRIMARY KEY, "runtimeEnvironmentId" text NOT NULL, "projectId" text NOT NULL,
  "taskIdentifier" text NOT NULL, "idempotencyKey" text, region text NOT NULL,
  "createdAt" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE UNIQUE INDEX "TaskRun_runtimeEnvironmentId_taskIdentifier_idempotencyKey_key"
  ON "TaskRun" ("runtimeEnvironmentId", "taskIdentifier", "idempotencyKey");
INSERT INTO "TaskRun" SELECT 'cm' || g, 'env_' || (g * 7919 % 60), 'proj_' || (g * 7919 % 60 / 2), 'task-' || (g % 25),
  CASE WHEN g % 10 = 1 THEN 'idem_' || g END, 'r' || (g * 31 % 7), now() - g * interval '7 s'
FROM generate_series(1, 100000) g;
ANALYZE "TaskRun";
"""


def _proposal(*columns: str) -> IndexSuggestion:
    name = "TaskRun_" + "_".join(columns) + "_idx"
    return IndexSuggestion("public", "TaskRun", name, list(columns), [False] * len(columns), "", "", "", "planned")


def test_a_determined_key_earns_no_index(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    dependent = _proposal("projectId", "taskIdentifier", "runtimeEnvironmentId")
    independent = _proposal("region", "taskIdentifier", "runtimeEnvironmentId")     # region varies per env
    ordered = _proposal("runtimeEnvironmentId", "taskIdentifier", "createdAt")      # a new key, not determined
    # (runtimeEnvironmentId, createdAt) exists: near unique, it "determines" taskIdentifier, which proves nothing
    conn.execute('CREATE INDEX "TaskRun_env_createdAt_idx" ON "TaskRun" ("runtimeEnvironmentId", "createdAt" DESC)')
    advice = Advice(Method.HYPOPG, indexes=[dependent, independent, ordered])
    review(conn, read_catalog(conn), advice)
    assert [s.name for s in advice.indexes] == [independent.name, ordered.name], advice.hints
    (hint,) = advice.hints
    assert hint.startswith(f"{dependent.name} withdrawn: TaskRun_runtimeEnvironmentId_taskIdentifier_idempotency"), hint
    assert 'CREATE STATISTICS (dependencies) ON "projectId", "taskIdentifier", "runtimeEnvironmentId"' in hint, hint
    # the sample ran read-only and left the session as it was
    assert conn.execute("SHOW transaction_read_only").fetchone() == ("off",)
