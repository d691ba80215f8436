"""A constant on a text identifier column makes no partial index, however few values it holds yet.

Found on a job-queue database (Trigger.dev-shaped): ``TaskRun."runtimeEnvironmentId"``
(a cuid as text, 40 environments) read as status-like (at most 50 distinct
values), so a log of the dashboard's run list got one partial index per
environment, ``WHERE "runtimeEnvironmentId" = 'env_3'`` and ``= 'env_7'``:
each serves one tenant, and a new environment none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.cli import cli

TABLE = """
CREATE TABLE "TaskRun" (id text PRIMARY KEY, "runtimeEnvironmentId" text NOT NULL, "statusId" integer NOT NULL,
                        "createdAt" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP);
INSERT INTO "TaskRun" SELECT 'cm' || g, 'env_' || (g % 40), CASE WHEN g % 100 = 0 THEN 1 ELSE 2 END,
                             now() - g * interval '1 s' FROM generate_series(1, 40000) g;
ANALYZE "TaskRun";
"""

LIST = ('SELECT "public"."TaskRun"."id" FROM "public"."TaskRun" WHERE ("public"."TaskRun"."runtimeEnvironmentId" '
        "= '{env}') ORDER BY \"public\".\"TaskRun\".\"createdAt\" DESC LIMIT 25;\n")


def test_no_partial_index_per_tenant(conn: psycopg.Connection[Any], db: str, tmp_path: Path) -> None:
    conn.execute(TABLE)
    if conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'hypopg'").fetchone() == (0,):
        pytest.skip("needs HypoPG: the heuristic method proposes no partial index here")
    queries = tmp_path / "q.sql"
    queries.write_text(LIST.format(env="env_3") + LIST.format(env="env_7"))
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(queries), "--no-constraints"])
    assert out.exit_code == 0, out.output
    ddl = [line for line in out.output.splitlines() if line.startswith("CREATE INDEX")]
    assert not any("WHERE \"runtimeEnvironmentId\"" in d for d in ddl), ddl
    assert any('("runtimeEnvironmentId", "createdAt" DESC' in d for d in ddl), ddl    # one index serves them all
