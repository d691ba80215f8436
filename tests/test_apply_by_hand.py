"""A phase run by hand with psql (as the README allows), then pgtune's apply / status / rollback (u2's R1).

The index pgtune's own script built must not be orphaned: status says it was
built outside ``pgtune apply``, apply adopts an index that is exactly the
planned one and that no other pgtune migration owns (rollback then drops it),
and where pgtune cannot tell whose it is, rollback leaves it and says to run
the down script by hand.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from pgtune import plan
from pgtune.apply import Applier
from pgtune.cli import cli
from pgtune.cluster import find_bindir
from pgtune.errors import ApplyFailed

from .helpers import ORDERS_BY_USER, emitted, run, shop, with_item_count


def _two_phases(conn: psycopg.Connection[Any], folder: Path) -> plan.Migration:
    shop(conn)
    run(conn, ORDERS_BY_USER, [(i,) for i in range(1, 11)])
    run(conn, "SELECT id FROM users WHERE \"createdAt\" > now() - interval '2 days' ORDER BY \"createdAt\"")
    m = emitted(conn, folder, first_phase_share=0.5).migration
    assert m is not None and len(m.phases) == 2
    return m


def _psql(db: str, script: Path) -> None:
    out = subprocess.run([str(find_bindir() / "psql"), "-X", "-v", "ON_ERROR_STOP=1", "-d", db, "-f", str(script)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def _indexes(conn: psycopg.Connection[Any]) -> set[str]:
    return {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'").fetchall()}


def test_phase_run_by_psql_is_seen_adopted_and_rolled_back(db: str, conn: psycopg.Connection[Any],
                                                           tmp_path: Path) -> None:
    folder = tmp_path / "mig"
    m = _two_phases(conn, folder)
    original = _indexes(conn)
    first = {ix.name for ix in m.phases[0].indexes}
    _psql(db, folder / m.phases[0].up_file)
    assert first <= _indexes(conn)

    status = CliRunner().invoke(cli, ["status", str(folder), "--dsn", db, "--format", "json"])
    phase1 = json.loads(status.stdout)["phases"][0]
    assert phase1["state"] == "pending" and set(phase1["built_outside"]) == first
    text = CliRunner().invoke(cli, ["status", str(folder), "--dsn", db])
    assert "built outside pgtune apply" in text.stdout

    # Before any apply: rollback has nothing of pgtune's to drop, and says how to undo the hand-run phase.
    early = CliRunner().invoke(cli, ["rollback", str(folder), "--dsn", db])
    assert early.exit_code == 0, early.stderr
    assert "01_down.sql" in early.output and first <= _indexes(conn)

    report = Applier(conn, folder).apply()
    notes = [s.note for s in report.steps if s.phase == 1 and s.statement.startswith("CREATE INDEX")]
    assert notes and all("adopted" in n for n in notes), notes
    Applier(conn, folder).rollback()
    assert _indexes(conn) == original          # the index 01_up.sql built by hand is not orphaned


def test_an_index_another_migration_built_is_not_adopted(db: str, conn: psycopg.Connection[Any],
                                                         tmp_path: Path) -> None:
    m = _two_phases(conn, tmp_path / "a")
    Applier(conn, tmp_path / "a").apply([1])
    twin = tmp_path / "b"                       # the same scripts under another migration id
    shutil.copytree(tmp_path / "a", twin)
    manifest = json.loads((twin / "manifest.json").read_text())
    manifest["id"] = manifest["id"] + "-twin"
    (twin / "manifest.json").write_text(json.dumps(manifest, indent=2))
    report = Applier(conn, twin).apply([1])
    notes = [s.note for s in report.steps if s.statement.startswith("CREATE INDEX")]
    assert notes and all("not pgtune's to adopt" in n and manifest["id"].removesuffix("-twin") in n
                         for n in notes), notes
    Applier(conn, twin).rollback()
    assert {ix.name for ix in m.phases[0].indexes} <= _indexes(conn)     # still migration a's


def test_where_a_migration_tool_manages_the_database_a_hand_built_index_is_left(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = _two_phases(conn, tmp_path / "mig")
    conn.execute("CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY)")
    ix = m.phases[0].indexes[0]
    conn.execute(ix.ddl.replace("CONCURRENTLY IF NOT EXISTS ", ""))     # Flyway's migration, or 01_up.sql?
    report = Applier(conn, tmp_path / "mig").apply()
    step = next(s for s in report.steps if s.statement.startswith("CREATE INDEX") and ix.name in s.statement)
    assert "rollback leaves it" in step.note and "01_down.sql by hand" in step.note
    back = Applier(conn, tmp_path / "mig").rollback()
    assert ix.name in _indexes(conn)
    assert any("01_down.sql" in s.note for s in back.steps if ix.name in s.statement)


def _check_phases(conn: psycopg.Connection[Any], folder: Path) -> tuple[plan.Migration, list[plan.Phase]]:
    shop(conn)
    with_item_count(conn)
    run(conn, ORDERS_BY_USER, [(i,) for i in range(1, 11)])
    m = emitted(conn, folder, constraints=True).migration
    assert m is not None
    checks = [p for p in m.phases if p.step in (plan.PhaseStep.ADD_NOT_VALID, plan.PhaseStep.VALIDATE)]
    assert len(checks) == 2 and checks[0].constraints, [p.step for p in m.phases]
    return m, checks


def _constraints(conn: psycopg.Connection[Any]) -> dict[str, bool]:
    return dict(conn.execute("SELECT conname, convalidated FROM pg_constraint WHERE contype = 'c' "
                             "AND conrelid = '\"order\"'::regclass").fetchall())


def test_a_check_phase_run_by_psql_is_adopted_and_rolled_back(db: str, conn: psycopg.Connection[Any],
                                                              tmp_path: Path) -> None:
    """u3: apply refused the CHECK that the phase's own NOT VALID + VALIDATE, run with psql, had added."""
    folder = tmp_path / "mig"
    m, (add, validate) = _check_phases(conn, folder)
    before = _constraints(conn)
    for phase in (add, validate):
        _psql(db, folder / phase.up_file)
    names = {k.name for k in add.constraints}
    assert {n for n, ok in _constraints(conn).items() if ok} >= names
    report = Applier(conn, folder).apply()
    notes = [s.note for s in report.steps if s.phase == add.number and "ADD CONSTRAINT" in s.statement]
    assert notes and all("adopted" in n for n in notes), notes
    Applier(conn, folder).rollback()
    assert _constraints(conn) == before        # the CHECK the psql run added is not orphaned


def test_a_check_of_the_same_name_but_another_rule_is_still_refused(db: str, conn: psycopg.Connection[Any],
                                                                    tmp_path: Path) -> None:
    folder = tmp_path / "mig"
    m, (add, _) = _check_phases(conn, folder)
    k = add.constraints[0]
    conn.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} CHECK (id > -1) NOT VALID").format(
        sql.Identifier(k.schema, k.table), sql.Identifier(k.name)))
    with pytest.raises(ApplyFailed, match="already exists"):
        Applier(conn, folder).apply()
    assert k.name in _constraints(conn)
