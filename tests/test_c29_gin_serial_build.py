"""A GIN the migration builds has the size its forecast gave the budget (c28's PostgreSQL 18 finding).

PostgreSQL 18 builds a GIN with parallel workers (max_parallel_maintenance_workers,
2 by default; CREATE INDEX CONCURRENTLY too): on 1M rows each holding a
unique email in jsonb_path_ops the parallel build is 54.4 MB, the serial one
33.4 MB. The forecast comes from a sample in a temporary table, which builds
serially: so --max-index-mb could admit a GIN 1.6x larger than it counted.
The migration builds each GIN serially, and sets the workers back after it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import ddl, plan
from pgtune.analyze import sample_cost
from pgtune.analyze.model import Advice, Method
from pgtune.apply import Applier

from .helpers import result_gin_advice, result_variables_gin
from .test_migration import squawk_bin

ROWS = 1_000_000


def test_a_gin_the_migration_builds_is_no_larger_than_its_forecast(
        conn: psycopg.Connection[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sample_cost, "SAMPLE_ROWS", 25_000)
    advice = result_gin_advice(conn, ROWS)
    gins = [ix for ix in advice.indexes if ix.columns[0] == "variables"]
    assert gins and gins[0].costed_by == "sample" and gins[0].forecast_bytes is not None
    advice.indexes = gins
    m = plan.build(advice)
    plan.emit(m, tmp_path / "m")
    conn.execute("RESET max_parallel_maintenance_workers")
    applier = Applier(conn, tmp_path / "m")
    applier.apply()
    built = conn.execute("SELECT pg_relation_size(%s::regclass)", (ddl.qualified("public", gins[0].name),)).fetchone()
    assert built is not None
    assert built[0] < gins[0].forecast_bytes * 1.2, (built[0], gins[0].forecast_bytes)
    # The session's setting is back: a b-tree after the GIN builds with the server's workers.
    assert conn.execute("SHOW max_parallel_maintenance_workers").fetchone() == ("2",)
    applier.rollback()
    assert conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'Result'").fetchone() == (1,)


def test_the_serial_gin_build_passes_squawk(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute('CREATE TABLE "Result" (id bigint PRIMARY KEY, variables jsonb NOT NULL)')
    m = plan.build(Advice(Method.HYPOPG, indexes=[result_variables_gin()]))
    plan.emit(m, tmp_path / "m")
    up = (tmp_path / "m" / m.phases[0].up_file).read_text()
    assert "SET max_parallel_maintenance_workers = 0;\nCREATE INDEX CONCURRENTLY" in up, up
    assert "SET max_parallel_maintenance_workers = DEFAULT;" in up, up
    files = [str(p) for p in sorted((tmp_path / "m").glob("*.sql"))]
    out = subprocess.run([squawk_bin(), f"--pg-version={conn.info.server_version // 10000}", *files],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
