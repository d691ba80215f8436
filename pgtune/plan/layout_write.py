"""Writing a migration into a tool's own folder (layouts): every file composed and checked before any is written."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..errors import MigrationError
from .layouts import Layout, _flyway, _golang_migrate, steps, without_ledgers
from .model import Migration
from .prisma_layout import prisma
from .tool_folder import numbered, refuse_other_tools, refuse_running_first


def write(m: Migration, directory: Path, layout: Layout, *, now: datetime | None = None,
          prisma_home: str | None = None) -> list[Path]:
    """Write ``m`` into the tool's migrations folder; return the files written.

    ``prisma_home``: the schema Prisma migrates (its ledger's), written unqualified by the Prisma layout.

    Every file is composed and checked first: if any would overwrite something,
    nothing is written (a half-written set would run half a migration).
    """
    directory = Path(directory)
    refuse_other_tools(directory, layout)
    start = _after_newest(directory, (now or datetime.now(UTC)).replace(microsecond=0))
    m, left_out = without_ledgers(m)
    todo = steps(m)
    if layout == Layout.PRISMA:
        files = prisma(m, directory, todo, start, left_out, prisma_home)
    elif layout == Layout.GOLANG_MIGRATE:
        files = _golang_migrate(m, directory, todo, start, numbered(directory, layout))
    elif layout == Layout.FLYWAY:
        files = _flyway(m, directory, start, numbered(directory, layout))
    else:
        raise MigrationError(f"unknown layout {layout}")
    taken = [p for p in files if p.exists() or (p.parent != directory and p.parent.exists())]
    if taken:
        raise MigrationError(f"{taken[0]} already exists: pgtune does not overwrite another migration")
    refuse_running_first(directory, layout, list(files))
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    return list(files)


ROOM = timedelta(hours=1)       # a stamp a second, one per folder: far more than a migration's folders


def _after_newest(directory: Path, start: datetime) -> datetime:
    """``start``, or one second after the newest timestamped migration already in ``directory`` if that is later.

    The tools run migrations in name order: a folder named before one already
    there (a clock behind, a hand-picked future stamp) would run before it on a
    fresh database, ahead of the migration that creates its table (u4's F4).
    """
    stamps = [m.group(1) for p in (directory.iterdir() if directory.is_dir() else [])
              if (m := re.match(r"V?(\d{14})(?!\d)", p.name))]
    newest = max(stamps, default=None)
    if newest is None or newest < start.strftime("%Y%m%d%H%M%S"):
        return start
    try:
        after = datetime.strptime(newest, "%Y%m%d%H%M%S").replace(tzinfo=UTC) + timedelta(seconds=1)
    except (ValueError, OverflowError):
        return start            # fourteen digits that are no time: a version number, ordered by the tool itself
    # No room for a stamp a folder after it (a hand-picked "sort last" 99991231235958_…: an OverflowError
    # traceback, d40): as digits that are no time, so the one there is refused as running after pgtune's.
    return after if after <= datetime.max.replace(tzinfo=UTC) - ROOM else start
