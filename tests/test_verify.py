"""verify after deploy: the plans use the new indexes, or verify says which do not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from click.testing import CliRunner

from pgtune.apply import Applier
from pgtune.cli import cli
from pgtune.verify import verify

from .test_migration import emit


def test_verify_passes_after_apply_and_fails_after_drop(db: str, conn: psycopg.Connection[Any],
                                                        tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    before = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db])
    assert before.exit_code == 1          # nothing applied yet: the promise is not kept
    Applier(conn, tmp_path / "mig").apply()
    ok = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db, "--format", "json"])
    assert ok.exit_code == 0, ok.stdout
    data = json.loads(ok.stdout)
    assert data["ok"] and all(t["used"] for t in data["targets"])
    assert all(t["ratio"] > 1 for t in data["targets"])
    target = m.targets[0]
    victim = target.expected_indexes[0]
    conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(victim)))
    bad = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db])
    assert bad.exit_code == 1
    failing = [line for line in bad.stdout.splitlines() if "FAIL" in line]
    assert failing and any(victim in line for line in failing)


def test_parameterized_statements_verify_with_generic_plans(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    assert any("$1" in t.query for t in m.targets)
    Applier(conn, tmp_path / "mig").apply()
    result = verify(conn, tmp_path / "mig")
    assert result.ok
    assert all(t.cost is not None for t in result.targets)


def test_disabled_index_scans_are_a_regression(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    emit(conn, tmp_path / "mig")
    Applier(conn, tmp_path / "mig").apply()
    for setting in ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan"):
        conn.execute(sql.SQL("ALTER DATABASE {} SET {} = off").format(
            sql.Identifier(conn.info.dbname), sql.Identifier(setting)))
    result = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db])
    assert result.exit_code == 1
    assert "regression" in result.stdout or "expected index not used" in result.stdout
