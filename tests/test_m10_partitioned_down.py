"""A run of a migration tool's layout stopped partway through a partitioned index, then undone (m10, MEDIUM):
golang-migrate's down files dropped only the partitioned index, which takes with it the partitions' indexes
attached to it, so a run stopped between the leaves' builds and their attaches left those leaves behind; the
"To undo" of the Prisma and Flyway layouts named the partitioned index alone. Undone from wherever it stopped,
each layout now removes exactly what its run built, and nothing else."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pglast
import psycopg
import pytest

from pgtune import plan
from pgtune.analyze import Advice, Method

from .test_layouts import as_one_query
from .test_migration import squawk_bin
from .test_partitions_migration import SCHEMA, suggestion


@pytest.fixture
def parts(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    conn.execute(SCHEMA)
    conn.execute("CREATE INDEX events_2026_02_kind ON events_2026_02 (kind)")     # not the migration's: it stays
    return conn


def _write(conn: psycopg.Connection[Any], folder: Path, layout: plan.Layout) -> None:
    found = [suggestion("events", "documentId"), suggestion("notifications", "userId")]
    m = plan.build(Advice(Method.HYPOPG, indexes=found),
                   partitions=plan.partitions.read(conn, [(s.schema, s.table) for s in found]))
    files = plan.write_layout(m, folder, layout)
    lint = subprocess.run([squawk_bin(), f"--pg-version={conn.info.server_version // 10000}",
                           *(str(f) for f in files if f.suffix == ".sql")], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def _indexes(conn: psycopg.Connection[Any]) -> list[tuple[str, bool]]:
    return conn.execute("SELECT c.relname, x.indisvalid FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
                        "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
                        "WHERE n.nspname IN ('public', 'archive') ORDER BY 1").fetchall()


def _undo(text: str) -> list[str]:
    """The statements under each "To undo" of a file: on its line, or one per indented comment line below it."""
    out: list[str] = []
    listing = False
    for line in text.splitlines():
        if line.startswith("-- To undo: "):
            out.append(line.removeprefix("-- To undo: ").split(";")[0])
        listing = line.startswith("-- To undo, in this order") or (listing and line.startswith("--   "))
        if listing and line.startswith("--   "):
            out.append(line.removeprefix("--   ").rstrip(";"))
    return out


def test_golang_migrate_down_after_a_run_stopped_anywhere(parts: psycopg.Connection[Any], tmp_path: Path) -> None:
    _write(parts, tmp_path / "db", plan.Layout.GOLANG_MIGRATE)
    ups = sorted((tmp_path / "db").glob("*.up.sql"))
    downs = sorted((tmp_path / "db").glob("*.down.sql"))
    before = _indexes(parts)
    for stop in range(1, len(ups) + 1):           # migrate up stopped after file ``stop``, then migrate down
        for path in ups[:stop]:
            as_one_query(parts, path.read_text())
        for path in reversed(downs[:stop]):
            as_one_query(parts, path.read_text())
        assert _indexes(parts) == before, (stop, ups[stop - 1].name)


def test_prisma_undo_after_a_deploy_stopped_anywhere(parts: psycopg.Connection[Any], tmp_path: Path) -> None:
    _write(parts, tmp_path / "migrations", plan.Layout.PRISMA)
    scripts = [f / "migration.sql" for f in sorted((tmp_path / "migrations").iterdir())]
    undo = [st for s in scripts for st in _undo(s.read_text())]
    before = _indexes(parts)
    for stop in range(1, len(scripts) + 1):
        for path in scripts[:stop]:
            as_one_query(parts, path.read_text())
        for st in undo:
            parts.execute(st)
        assert _indexes(parts) == before, (stop, scripts[stop - 1].parent.name)


def test_flyway_undo_after_a_script_stopped_anywhere(parts: psycopg.Connection[Any], tmp_path: Path) -> None:
    _write(parts, tmp_path / "sql", plan.Layout.FLYWAY)
    [script] = sorted((tmp_path / "sql").glob("V*.sql"))
    statements = pglast.split(script.read_text())
    undo = _undo(script.read_text())
    before = _indexes(parts)
    for stop in range(1, len(statements) + 1):
        for st in statements[:stop]:
            parts.execute(st)
        for st in undo:
            parts.execute(st)
        assert _indexes(parts) == before, (stop, statements[stop - 1])
