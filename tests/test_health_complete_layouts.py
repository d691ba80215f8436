"""health's completion of a partitioned index left INVALID, in the migration tools' layouts: migrate down puts the
index back as it was at emit, as pgtune's own rollback does (m10: golang-migrate's down files said "Nothing to
undo" and Prisma's folders had no "To undo", so the partitions' indexes up built and attached stayed)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pglast
import psycopg

from pgtune import plan
from pgtune.health import Finding, Severity, build_migration

from .test_health_layouts import run_golang
from .test_layouts import as_one_query
from .test_migration import squawk_bin
from .test_partitions_migration import _report, attached, dump, parts, valid

__all__ = ["parts"]     # the fixture, used by name


def half_done(conn: psycopg.Connection[Any]) -> plan.Migration:
    """A manual migration stopped half-way: ON ONLY, one partition attached, one built by hand and never attached."""
    conn.execute("CREATE INDEX events_kind_idx ON ONLY events (kind)")
    conn.execute("CREATE INDEX events_2026_02_kind_idx ON events_2026_02 (kind)")
    conn.execute("ALTER INDEX events_kind_idx ATTACH PARTITION events_2026_02_kind_idx")
    conn.execute("CREATE INDEX march_kind ON events_2026_03 (kind)")
    finding = Finding("invalid-index", Severity.ERROR, "public", "events", "events_kind_idx", "INVALID", {}, [])
    m = build_migration(conn, _report(finding)).migration
    assert m is not None and [e.fix for p in m.phases for e in p.existing] == [plan.IndexFix.COMPLETE]
    return m


def test_golang_migrate_down_puts_a_completed_index_back_as_it_was(db: str, parts: psycopg.Connection[Any],
                                                                    tmp_path: Path) -> None:
    m = half_done(parts)
    original = dump(db)
    written = plan.write_layout(m, tmp_path / "db", plan.Layout.GOLANG_MIGRATE)
    lint = subprocess.run([squawk_bin(), *map(str, written)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    run_golang(parts, tmp_path / "db", "up")
    assert valid(parts, "events_kind_idx")
    assert sorted(attached(parts, "events_kind_idx")) == ["events_2026_01", "events_2026_02", "events_2026_03",
                                                          "events_default"]
    run_golang(parts, tmp_path / "db", "down")
    assert dump(db) == original
    assert not valid(parts, "events_kind_idx")
    assert sorted(attached(parts, "events_kind_idx")) == ["events_2026_02"]
    run_golang(parts, tmp_path / "db", "up")                  # and it can be completed again
    assert valid(parts, "events_kind_idx")


def test_prisma_says_how_to_undo_a_completion_and_it_does(db: str, parts: psycopg.Connection[Any],
                                                           tmp_path: Path) -> None:
    m = half_done(parts)
    original = dump(db)
    plan.write_layout(m, tmp_path / "prisma", plan.Layout.PRISMA)
    plan.write_layout(m, tmp_path / "flyway", plan.Layout.FLYWAY)
    for folder in ("prisma", "flyway"):
        texts = [p.read_text() for p in sorted((tmp_path / folder).rglob("*.sql"))]
        undo = [t for t in texts if "no partition's index can be detached" in t]
        assert len(undo) == 1, folder
        said = re.findall(r"^--   (.*)$", undo[0].split("To undo, in this order")[1], re.M)
        for text in texts:                                    # up, as each tool runs it
            if folder == "prisma":
                as_one_query(parts, text)
            else:
                for stmt in pglast.split(text):
                    parts.execute(stmt)
        assert valid(parts, "events_kind_idx")
        for stmt in said:                                     # what the file says undoes it
            parts.execute(stmt.removesuffix(";"))
        assert dump(db) == original, folder
        assert sorted(attached(parts, "events_kind_idx")) == ["events_2026_02"]
