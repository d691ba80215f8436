"""verify after a part-way rollback read FAIL for what was rolled back on purpose (v39 open, r40).

A migration of two index phases, both applied, then ``pgtune rollback --phase 2``: phase 1 stays and is verified,
phase 2's index is gone as asked. verify listed phase 2's statement as FAIL ("expected index not used", cost cut
1.0x) and exited 1, as if the index had failed; only a migration rolled back whole was no failure (n38). A
statement whose every planned index went with a rolled-back phase is now "undone" (verdict ``rolled-back``, JUnit
skipped), exit 0; the same index dropped by hand, which no rollback did, still fails.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune import plan
from pgtune.cli import cli

from .helpers import emitted
from .test_apply_safety import BIG, QUERIES, invalid_indexes
from .test_migration import emit
from .test_p23_died_apply import _kill_mid_build


def _two_phases(db: str, conn: psycopg.Connection[Any], folder: Path) -> tuple[plan.Migration, str]:
    m = emit(conn, folder, first_phase_share=0.3)       # the costliest statement's index first, the rest after
    assert [len(p.indexes) for p in m.phases] == [1, 1], [(p.number, p.name) for p in m.phases]
    applied = CliRunner().invoke(cli, ["apply", str(folder), "--dsn", db])
    assert applied.exit_code == 0, applied.output
    return m, m.phases[1].indexes[0].name


def test_a_phase_rolled_back_fails_no_statement(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    folder = tmp_path / "mig"
    _, second = _two_phases(db, conn, folder)
    back = CliRunner().invoke(cli, ["rollback", str(folder), "--phase", "2", "--dsn", db])
    assert back.exit_code == 0, back.output
    status = CliRunner().invoke(cli, ["status", str(folder), "--dsn", db, "--format", "json"])
    assert status.exit_code == 0, status.output
    assert [p["state"] for p in json.loads(status.stdout)["phases"]] == ["applied", "rolled_back"], status.stdout

    junit = tmp_path / "verify.xml"
    out = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db, "--junit", str(junit)])
    # Without the fix: exit 1, "FAIL … expected index not used: <second>", a FAIL line under the table.
    assert out.exit_code == 0, out.output
    assert "FAIL" not in out.stdout and "fail here" not in out.stdout, out.stdout
    [row] = [line for line in out.stdout.splitlines() if line.startswith("undone")]
    assert f"{second} rolled back with phase 2" in row and "1.0x" not in row, row
    assert f"planned index {second} is used by no targeted statement" not in out.stdout, out.stdout
    doc = json.loads(CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db, "--format", "json"]).stdout)
    verdicts = {t["verdict"] for t in doc["targets"]}
    assert doc["ok"] and not doc["rolled_back"] and verdicts == {"ok", "rolled-back"}, doc["targets"]
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "0" and suite.get("skipped") == "1", ET.tostring(suite)

    # The same index gone without a rollback (dropped by hand): the history says phase 2 is applied, so it fails.
    CliRunner().invoke(cli, ["apply", str(folder), "--dsn", db])
    conn.execute(f'DROP INDEX "{second}"')
    dropped = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db])
    assert dropped.exit_code == 1 and "FAIL" in dropped.stdout and "undone" not in dropped.stdout, dropped.output


def _killed_in_phase_2(db: str, conn: psycopg.Connection[Any], folder: Path) -> tuple[str, set[str]]:
    """Phase 1 applied; pgtune killed (SIGKILL) while phase 2 builds: the server leaves that build INVALID."""
    conn.execute(BIG)
    conn.execute("VACUUM ANALYZE events")
    m = emitted(conn, folder, QUERIES, lock_timeout="60s", first_phase_share=0.3).migration
    assert m is not None and len(m.phases) == 2, m
    first = CliRunner().invoke(cli, ["apply", str(folder), "--phase", "1", "--dsn", db])
    assert first.exit_code == 0, first.output
    _kill_mid_build(db, conn, folder)
    [leftover] = [r[0] for r in conn.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid")]
    second = {ix.name for ix in m.phases[1].indexes}
    assert leftover in second, (leftover, second)
    return leftover, second


def test_a_build_killed_in_phase_2_then_applied_again(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """Crash recovery finishes: apply again drops the leftover, builds it, and its report says so."""
    folder = tmp_path / "mig"
    leftover, _ = _killed_in_phase_2(db, conn, folder)
    again = CliRunner().invoke(cli, ["apply", str(folder), "--dsn", db, "--format", "json"])
    assert again.exit_code == 0, again.output
    [rebuilt] = [s for s in json.loads(again.stdout)["steps"] if leftover in s["statement"]]
    # Without the fix: the note was empty; only a terminal's progress line said the leftover was dropped.
    assert rebuilt["status"] == "done" and "INVALID leftover" in rebuilt["note"], rebuilt
    assert invalid_indexes(conn) == 0
    status = CliRunner().invoke(cli, ["status", str(folder), "--dsn", db, "--format", "json"])
    assert status.exit_code == 0 and {p["state"] for p in json.loads(status.stdout)["phases"]} == {"applied"}
    out = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db])
    assert out.exit_code == 0 and "FAIL" not in out.stdout and "undone" not in out.stdout, out.output


def test_a_build_killed_in_phase_2_then_rolled_back(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """Then rollback --phase 2. Each command says what is there: status names the INVALID leftover, rollback says
    it drops it (only pgtune's), and verify fails no statement for what was rolled back, nor calls those indexes
    unused."""
    folder = tmp_path / "mig"
    leftover, second = _killed_in_phase_2(db, conn, folder)
    before = CliRunner().invoke(cli, ["status", str(folder), "--dsn", db, "--format", "json"])
    one, two = json.loads(before.stdout)["phases"]
    assert before.exit_code == 1 and one["state"] == "applied" and two["state"] == "failed", before.output
    assert [i.split(" ")[0] for i in two["invalid"]] == [leftover] and "INVALID" in two["invalid"][0], two

    failed = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db])
    assert failed.exit_code == 1 and "phase 2 (remaining indexes) failed" in failed.stdout, failed.output
    # Without the fix: "note: planned index … is used by no targeted statement" for the two never built.
    assert "used by no targeted statement" not in failed.stdout, failed.stdout

    back = CliRunner().invoke(cli, ["rollback", str(folder), "--phase", "2", "--dsn", db, "--format", "json"])
    assert back.exit_code == 0, back.output
    [drop] = [s for s in json.loads(back.stdout)["steps"] if s["status"] == "done" and "DROP INDEX" in s["statement"]]
    # Without the fix: the note was empty, the report did not say the index it dropped was the failed build's.
    assert leftover in drop["statement"] and "INVALID, left by a failed build" in drop["note"], drop
    assert invalid_indexes(conn) == 0
    status = CliRunner().invoke(cli, ["status", str(folder), "--dsn", db, "--format", "json"])
    assert [p["state"] for p in json.loads(status.stdout)["phases"]] == ["applied", "rolled_back"], status.output
    assert status.exit_code == 0, status.output
    out = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db])
    assert out.exit_code == 0 and "FAIL" not in out.stdout, out.output
    assert sum(line.startswith("undone") for line in out.stdout.splitlines()) == len(second), out.stdout


def test_a_check_phase_that_failed_is_noted_by_verify(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """Phase 1's indexes applied; phase 2 (CHECK constraints, NOT VALID) not started: a long transaction holds
    the table (n38's longtx). verify checked phase 1's statements, all ok, and said nothing of phase 2."""
    folder = tmp_path / "mig"
    m = emit(conn, folder, constraints=True)
    [checks] = [p for p in m.phases if p.step == plan.PhaseStep.ADD_NOT_VALID]
    assert all(p.indexes for p in m.phases[:checks.number - 1]), m.phases
    through = CliRunner().invoke(cli, ["apply", str(folder), "--through", str(checks.number - 1), "--dsn", db])
    assert through.exit_code == 0, through.output
    with psycopg.connect(db) as reader:     # idle in transaction, holding the table as a read does
        reader.execute('LOCK TABLE "order" IN ACCESS SHARE MODE')
        stuck = CliRunner().invoke(cli, ["apply", str(folder), "--dsn", db, "--wait-for-transactions", "1"])
        assert stuck.exit_code == 1 and "was not started" in stuck.output, stuck.output
    status = CliRunner().invoke(cli, ["status", str(folder), "--dsn", db, "--format", "json"])
    states = [p["state"] for p in json.loads(status.stdout)["phases"]][:checks.number]
    assert states == ["applied"] * (checks.number - 1) + ["failed"], status.output
    out = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db])
    assert out.exit_code == 0 and "FAIL" not in out.stdout, out.output      # its statements' indexes are there
    # Without the fix: no line about the failed phase at all.
    n, name = checks.number, checks.name
    assert f"note: phase {n} ({name}) failed: pgtune status lists what its run has not made" in out.stdout, out.stdout
    doc = json.loads(CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db, "--format", "json"]).stdout)
    assert doc["phases_not_in_place"] == [{"number": n, "name": name, "state": "failed", "missing": []}], doc
    back = CliRunner().invoke(cli, ["rollback", str(folder), "--dsn", db])
    assert back.exit_code == 0, back.output
    undone = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db])
    assert undone.exit_code == 0 and undone.stdout.startswith(f"verify: migration {m.id} is rolled back"), undone.stdout
