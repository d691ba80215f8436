"""Where pgtune keeps its own plan of a migration written in Prisma's layout, and how a folder finds it.

Prisma reads only ``migration.sql`` of a migration folder: pgtune's folder of
the whole migration (manifest, phase scripts, targets) sits inside the first
one, and every ``migration.sql`` names its pgtune migration on its first line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import MigrationError
from .model import MANIFEST

# Where the Prisma layout keeps pgtune's own folder of the whole migration (manifest, phase scripts, targets
# with their baselines): inside the first migration folder, which Prisma reads only migration.sql of.
PLAN_DIR = "pgtune"
_HEADER = re.compile(r"-- pgtune migration (\S+?), phase (\d+) of \d+:")


def first_folder(files: list[Path]) -> Path:
    """The first migration folder of a Prisma layout's files: where its pgtune folder (PLAN_DIR) goes."""
    return min(files, key=lambda p: p.parent.name).parent


def prisma_plan(directory: Path) -> Path | None:
    """pgtune's folder of the whole migration a Prisma-layout folder belongs to; None if ``directory`` is none.

    Any folder of the set will do, or its pgtune folder itself: the first line
    of each migration.sql names the pgtune migration, and the first folder of
    the set holds PLAN_DIR. Raises MigrationError for a pgtune folder whose plan
    is not there (written before pgtune kept one: re-emit for status and verify).
    """
    directory = Path(directory)
    if directory.name == PLAN_DIR and (directory.parent / "migration.sql").exists():
        return directory
    if (directory / PLAN_DIR / MANIFEST).exists():
        return directory / PLAN_DIR
    script = directory / "migration.sql"
    if not script.exists():
        _refuse_the_tools_folder(directory)
        return None
    with script.open(encoding="utf-8", errors="replace") as f:
        found = _HEADER.match(f.readline())
    if found is None:
        return None
    for sibling in sorted(directory.parent.iterdir()):
        manifest = sibling / PLAN_DIR / MANIFEST
        if manifest.exists() and _manifest_id(manifest) == found.group(1):
            return manifest.parent
    raise MigrationError(f"{directory} belongs to pgtune migration {found.group(1)}, but no folder beside it holds its "
                         f"plan ({PLAN_DIR}/{MANIFEST}): emitted by an older pgtune; emit it again for status and "
                         "verify")


def folder_phases(directory: Path, migration_id: str) -> dict[str, int]:
    """The Prisma migration folders in ``directory`` that pgtune migration ``migration_id`` wrote: name -> phase."""
    out: dict[str, int] = {}
    for folder in sorted(p for p in Path(directory).iterdir() if p.is_dir()):
        script = folder / "migration.sql"
        if not script.exists():
            continue
        with script.open(encoding="utf-8", errors="replace") as f:
            found = _HEADER.match(f.readline())
        if found is not None and found.group(1) == migration_id:
            out[folder.name] = int(found.group(2))
    return out


def _manifest_id(path: Path) -> str | None:
    try:
        found = json.loads(path.read_text(encoding="utf-8")).get("id")
    except (OSError, ValueError, AttributeError):
        return None
    return str(found) if found is not None else None


def _refuse_the_tools_folder(directory: Path) -> None:
    """Prisma's migrations folder itself, the one given to --emit, holds pgtune's migrations only one level down:
    name them (u15: `pgtune status prisma/migrations` said "not a pgtune migration folder (no manifest.json)")."""
    plans = sorted(p for p in directory.iterdir() if (p / PLAN_DIR / MANIFEST).exists()) if directory.is_dir() else []
    if plans:
        raise MigrationError(f"{directory} is Prisma's migrations folder, not one migration; pgtune's migrations "
                             f"in it start at {', '.join(str(p) for p in plans)}: pgtune status and pgtune verify "
                             "take one of these folders (prisma migrate deploy runs them)")
