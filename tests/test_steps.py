"""Typed steps: every unit of a script is a step of the manifest that names its object; a folder where they
disagree, or written in the old format, is refused with one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune import plan
from pgtune.apply import Applier
from pgtune.cli import cli
from pgtune.errors import MigrationError
from pgtune.plan import Action, ObjectKind

from .test_migration import emit


def manifest(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "manifest.json").read_text())
    return data


def test_manifest_records_each_units_object(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig", constraints=True)
    raw = manifest(tmp_path / "mig")
    assert raw["format"] == plan.FORMAT_VERSION == 2
    loaded = plan.load(tmp_path / "mig")
    first = loaded.phases[0]
    builds = [s for s in first.up if s.kind == ObjectKind.INDEX and s.action == Action.CREATE]
    assert [(s.schema, s.name, s.table) for s in builds] == [(ix.schema, ix.name, ix.table) for ix in first.indexes]
    assert all(s.definition == ix.ddl and s.undo == (ix.rollback,) for s, ix in zip(builds, first.indexes,
                                                                                     strict=True))
    assert {s.kind for s in first.up} == {ObjectKind.SETTING, ObjectKind.INDEX, ObjectKind.TABLE}
    assert [s.action for s in first.down if s.kind == ObjectKind.INDEX] == [Action.DROP] * len(first.indexes)
    kinds = {(s.kind, s.action) for p in loaded.phases for s in p.up}
    assert (ObjectKind.CONSTRAINT, Action.CREATE) in kinds and (ObjectKind.CONSTRAINT, Action.VALIDATE) in kinds
    assert raw["phases"][0]["up"][3]["kind"] == "index" and "definition" in raw["phases"][0]["up"][3]
    assert m.phases


def test_a_script_unit_that_is_not_its_step_is_refused(db: str, conn: psycopg.Connection[Any],
                                                       tmp_path: Path) -> None:
    emit(conn, tmp_path / "mig")
    raw = manifest(tmp_path / "mig")
    step = next(s for s in raw["phases"][0]["up"] if s["kind"] == "index")
    step["name"] = "something_else_idx"          # the object still matches; now the SQL does not
    step["sql"] = [step["sql"][0].replace("CREATE INDEX", "CREATE UNIQUE INDEX")]
    (tmp_path / "mig" / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(MigrationError, match=r"01_up.sql: unit 4 \(CREATE INDEX CONCURRENTLY .*\) is not the "
                                             r"manifest's step 4"):
        plan.load(tmp_path / "mig")
    out = CliRunner().invoke(cli, ["apply", str(tmp_path / "mig"), "--dsn", db])
    assert out.exit_code == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert conn.execute("SELECT to_regnamespace('pgtune')").fetchone() == (None,)     # nothing ran


def test_a_missing_step_is_refused(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    emit(conn, tmp_path / "mig")
    raw = manifest(tmp_path / "mig")
    raw["phases"][0]["down"].pop()
    (tmp_path / "mig" / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(MigrationError, match="01_down.sql has .* units, the manifest .* steps"):
        Applier(conn, tmp_path / "mig").rollback()


def test_the_old_manifest_format_is_refused_with_one_line(db: str, conn: psycopg.Connection[Any],
                                                          tmp_path: Path) -> None:
    emit(conn, tmp_path / "mig")
    raw = manifest(tmp_path / "mig")
    raw["format"] = 1
    for p in raw["phases"]:
        del p["up"], p["down"]
    (tmp_path / "mig" / "manifest.json").write_text(json.dumps(raw))
    out = CliRunner().invoke(cli, ["rollback", str(tmp_path / "mig"), "--dsn", db])
    assert out.exit_code == 2
    assert out.stderr.strip().count("\n") == 0
    assert "older pgtune (manifest format 1" in out.stderr and "NN_down.sql" in out.stderr


def test_apply_runs_the_steps_and_the_history_names_their_objects(conn: psycopg.Connection[Any],
                                                                   tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    Applier(conn, tmp_path / "mig").apply()
    objects = {r[0] for r in conn.execute("SELECT object FROM pgtune.history WHERE status = 'done' "
                                          "AND object IS NOT NULL")}
    assert objects == {f"index {plan.Name(ix.schema, ix.name)}" for p in m.phases for ix in p.indexes}
