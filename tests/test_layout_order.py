"""Emitted migrations sort after the newest one already in the folder (u4's F4 on formbricks).

formbricks names some migrations by hand (20260821000000_…). pgtune named its
Prisma folders with the current time, so beside a migration stamped later it
wrote folders that sort before it: on a fresh database (CI, the shadow
database of `prisma migrate dev`) Prisma runs them first, before the
migration that creates their table, and the deploy stops.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from pgtune import api, plan

from .test_layouts import workload


def test_prisma_folders_sort_after_a_later_stamped_migration(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    workload(conn)
    folder = tmp_path / "migration"
    later = folder / "99991231000000_add_order_archive"     # sorts after any stamp made now (2099… did until 2100)
    later.mkdir(parents=True)
    (later / "migration.sql").write_text("SELECT 1;\n")
    result = api.suggest(conn, emit=api.EmitOptions(directory=folder, layout=plan.Layout.PRISMA))
    assert result.migration is not None
    names = sorted(p.name for p in folder.iterdir())
    assert names[0] == later.name, names
    assert names[1].startswith("99991231000001_pgtune_"), names
