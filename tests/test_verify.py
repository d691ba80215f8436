"""verify after deploy: the plans use the new indexes, or verify says which do not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner
from psycopg import sql

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


def _targets_migration(conn: psycopg.Connection[Any], tmp_path: Path, text: str, analyze: bool = False) -> Path:
    from .helpers import emitted, shop

    shop(conn)
    emitted(conn, tmp_path / "mig", text, measure=analyze)
    return tmp_path / "mig"


def test_delete_in_targets_is_never_executed_even_with_analyze(db: str, conn: psycopg.Connection[Any],
                                                                 tmp_path: Path) -> None:
    folder = _targets_migration(conn, tmp_path, 'DELETE FROM "order" WHERE "userId" = 17;\n'
                                                'SELECT id FROM "order" WHERE "userId" = 18;', analyze=True)
    count = conn.execute('SELECT count(*) FROM "order"').fetchone()
    Applier(conn, folder).apply()
    result = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db, "--analyze", "--format", "json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert conn.execute('SELECT count(*) FROM "order"').fetchone() == count
    data = json.loads(result.stdout)
    [delete] = [t for t in data["targets"] if t["query"].startswith("DELETE")]
    assert delete["ms"] is None and delete["note"].startswith("not executed: writes (DELETE)")
    [select] = [t for t in data["targets"] if t["query"].startswith("SELECT")]
    assert select["ms"] is not None and select["baseline_ms"] is not None


def test_writes_hidden_in_selects_are_never_executed(conn: psycopg.Connection[Any]) -> None:
    from pgtune.readonly import why_not_read_only

    from .helpers import shop

    shop(conn)
    assert why_not_read_only(conn, 'SELECT * FROM "order" WHERE id = 1') is None
    assert why_not_read_only(conn, 'SELECT * FROM "order" WHERE id = 1 FOR UPDATE') == \
        "locks rows (FOR UPDATE/SHARE)"
    assert why_not_read_only(conn, "WITH d AS (DELETE FROM users RETURNING id) SELECT * FROM d") == \
        "writes (data-modifying WITH)"
    assert why_not_read_only(conn, "SELECT nextval('s'), id FROM users") == "calls a volatile function: nextval"
    assert why_not_read_only(conn, "SELECT * INTO t2 FROM users") == "creates a table (SELECT INTO)"
    assert why_not_read_only(conn, "UPDATE users SET email = email") == "writes (UPDATE)"


def test_baseline_records_parameter_types_and_plan(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    from pgtune.plan import load

    targets = load(tmp_path / "mig").targets
    assert targets == m.targets
    param = next(t for t in targets if "$1" in t.query)
    assert param.param_types and param.param_types[0] == "bigint"
    assert param.baseline_plan and "Plan" in param.baseline_plan


def test_junit_report_and_adhoc_query(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    Applier(conn, tmp_path / "mig").apply()
    report = tmp_path / "verify.xml"
    ok = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db, "--junit", str(report)])
    assert ok.exit_code == 0
    from xml.etree import ElementTree as ET

    suite = ET.parse(report).getroot()
    assert suite.tag == "testsuite" and suite.get("failures") == "0"
    assert int(suite.get("tests") or 0) == len(m.targets)
    name = m.targets[0].expected_indexes[0]
    query = m.targets[0].query.replace("$1", "1").replace("$2", "5")
    hit = CliRunner().invoke(cli, ["verify", "--dsn", db, "--query", query, "--expect-index", name])
    assert hit.exit_code == 0, hit.stdout
    miss = CliRunner().invoke(cli, ["verify", "--dsn", db, "--query", query, "--expect-index", "no_such_idx"])
    assert miss.exit_code == 1 and "expected index not used: no_such_idx" in miss.stdout
    both = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db, "--query", query])
    assert both.exit_code == 2


def test_statistics_older_than_the_new_index_are_reported(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    Applier(conn, tmp_path / "mig").apply()
    assert verify(conn, tmp_path / "mig").stale_statistics == []     # apply ran ANALYZE
    # As if one index had been rebuilt after its table's last ANALYZE.
    ix = m.phases[0].indexes[0]
    conn.execute("UPDATE pgtune.history SET finished = now() + interval '1 hour' "
                 "WHERE statement = %s AND status = 'done'", (ix.ddl,))
    assert verify(conn, tmp_path / "mig").stale_statistics == [f"{ix.schema}.{ix.table}"]


def test_prediction_and_measurement_disagreement_is_flagged(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    from pgtune.plan import Target
    from pgtune.verify import check_target

    from .helpers import shop

    shop(conn)
    query = 'SELECT id FROM "order" WHERE "userId" = 5'
    plain = explain_cost(conn, query)
    # Baseline says the planner predicted no change, but "measured" 1000x slower before.
    target = Target(None, query, 1, plain, [], baseline_ms=10_000.0)
    result, _ = check_target(conn, target, tolerance=0.1, analyze=True, timeout_ms=10_000)
    assert result.ms is not None
    assert result.note.startswith("prediction and measurement disagree")


def explain_cost(conn: psycopg.Connection[Any], query: str) -> float:
    from pgtune.explain import explain as _explain

    return _explain(conn, query).cost


def test_verify_shows_how_the_plan_changed_and_plans_with_the_baseline_types(db: str, conn: psycopg.Connection[Any],
                                                                             tmp_path: Path) -> None:
    from pgtune.explain import explain

    m = emit(conn, tmp_path / "mig")
    Applier(conn, tmp_path / "mig").apply()
    out = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db, "--format", "json"])
    data = json.loads(out.stdout)
    target = next(t for t in data["targets"] if '"userId"' in t["query"])
    assert any(s.startswith("Seq Scan") or "Bitmap" in s or "Index" in s for s in target["scans_before"])
    assert any(ix in s for s in target["scans_now"] for ix in target["expected"]), target
    assert m.targets[0].param_types                       # recorded at emit, used by verify
    typed = explain(conn, 'SELECT id FROM "order" WHERE "userId" = $1', param_types=["bigint"])
    hostile = explain(conn, 'SELECT id FROM "order" WHERE "userId" = $1', param_types=["int) AS SELECT 1; --"])
    assert typed.cost > 0 and hostile.cost > 0            # a bad type name is ignored, never pasted
