"""--emit DIR --layout prisma beside migrations pgtune did not write, and Prisma did not name (n38, LOW).

A Cal.com-shaped app kept a hand-written migration in prisma/migrations: a Flyway-named file (V3__backfill.sql)
that a teammate runs with Flyway, or a folder named by hand (manual_fix/). pgtune wrote its Prisma folders beside
them, exit 0: Prisma never runs the Flyway file, Flyway never runs pgtune's folders, and a hand-named folder sorts
after every timestamp, so on a fresh database pgtune's index ran before the migration that makes its table. Now:
one line naming what is there, exit 2, nothing written, nothing there touched. Each tool's own folder still
takes its layout (Flyway files beside Flyway files).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli

from .test_layouts import workload

TABLE = 'CREATE TABLE "Booking" (id serial PRIMARY KEY);\n'


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"" for p in sorted(folder.rglob("*"))}


def prisma_app(tmp_path: Path) -> Path:
    folder = tmp_path / "prisma" / "migrations"
    (folder / "20240101000000_init").mkdir(parents=True)
    (folder / "20240101000000_init" / "migration.sql").write_text(TABLE)
    (folder / "migration_lock.toml").write_text('provider = "postgresql"\n')
    return folder


def refused(db: str, folder: Path, layout: str) -> str:
    before = snapshot(folder)
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--emit", str(folder), "--layout", layout])
    assert out.exit_code == 2, out.output
    assert snapshot(folder) == before, "pgtune wrote or changed something"
    (line,) = out.stderr.strip().splitlines()
    return line


def test_a_flyway_file_in_prismas_folder_is_refused(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    workload(conn)
    folder = prisma_app(tmp_path)
    (folder / "V3__backfill.sql").write_text("UPDATE \"Booking\" SET id = id;\n")
    # Without the fix: exit 0, pgtune's folders written beside both.
    line = refused(db, folder, "prisma")
    assert "V3__backfill.sql" in line and "Flyway" in line and "Prisma Migrate" in line, line
    assert "ambiguous" in line, line


def test_a_prisma_folder_in_a_flyway_folder_is_refused(db: str, conn: psycopg.Connection[Any],
                                                       tmp_path: Path) -> None:
    workload(conn)
    folder = tmp_path / "db" / "migration"
    folder.mkdir(parents=True)
    (folder / "V1__init.sql").write_text(TABLE)
    (folder / "V2__hand.sql").write_text("SELECT 1;\n")
    ok = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--emit", str(folder), "--layout", "flyway"])
    assert ok.exit_code == 0, ok.output        # Flyway's own folder takes Flyway's layout
    written = sorted(p.name for p in folder.iterdir() if "pgtune" in p.name)
    assert written and (folder / "V1__init.sql").read_text() == TABLE, written
    line = refused(db, folder, "prisma")
    assert "V1__init.sql" in line and "--layout prisma writes nothing" in line, line
    line = refused(db, folder, "golang-migrate")
    assert "Flyway" in line, line


def test_a_hand_named_folder_pgtunes_would_run_before_is_refused(db: str, conn: psycopg.Connection[Any],
                                                                 tmp_path: Path) -> None:
    workload(conn)
    # After any stamp on any day: digits that are no time, and a time with no stamp left after it (d40: an
    # OverflowError traceback).
    for name in ("manual_fix", "99991231999999_hand", "99991231235958_hand", "99991231235959_hand"):
        folder = prisma_app(tmp_path / name)
        (folder / name).mkdir()
        (folder / name / "migration.sql").write_text('ALTER TABLE "Booking" ADD COLUMN note text;\n')
        # Without the fix: exit 0, pgtune's folders stamped now, sorting before the hand-named one.
        line = refused(db, folder, "prisma")
        assert line.startswith(f"pgtune: {folder / name} runs after ") and "does not rename" in line, line
