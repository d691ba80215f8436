"""Whose migrations a tool's folder already holds, so a layout is written only where that tool alone runs them.

Each tool finds its migrations by its own naming rule and runs them in its own order; a file another tool
named is, to it, nothing (Prisma reads folders, Flyway ``V…__….sql`` files, golang-migrate ``N_….up.sql``).
pgtune's Prisma folders beside a hand-written Flyway migration were never run by Flyway, nor its file by
Prisma (n38): which tool runs that folder is the team's to say, and pgtune writes nothing there (exit 2). A
migration pgtune would name to run before one already there (a hand-named folder, ``manual_fix``, sorts after
every timestamp) is refused too: pgtune never renames what it did not write.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import MigrationError
from .layouts import Layout

TOOLS = {Layout.PRISMA: "Prisma Migrate", Layout.FLYWAY: "Flyway", Layout.GOLANG_MIGRATE: "golang-migrate",
         Layout.PGTUNE: "pgtune"}
_FLYWAY = re.compile(r"(?:[VU](\d+(?:[._]\d+)*)__.*|R__.*)\.sql")
_GOLANG = re.compile(r"(\d+)_.*\.(?:up|down)\.sql")


def tools_in(directory: Path) -> dict[Layout, list[str]]:
    """The tools whose migrations ``directory`` holds, by their naming rules: tool -> the names, in order.

    A subfolder is Prisma's (it runs each one's migration.sql, in name order; one without it stops its deploy),
    its migration_lock.toml too; pgtune's own folder has manifest.json. Hidden entries and other files
    (README.md, .gitkeep) are no migration.
    """
    found: dict[Layout, list[str]] = {}
    for p in sorted(directory.iterdir()) if directory.is_dir() else []:
        tool = (None if p.name.startswith(".") else Layout.PRISMA if p.is_dir() or p.name == "migration_lock.toml"
                else Layout.PGTUNE if p.name == "manifest.json" else Layout.FLYWAY if _FLYWAY.fullmatch(p.name)
                else Layout.GOLANG_MIGRATE if _GOLANG.fullmatch(p.name) else None)
        if tool is not None:
            found.setdefault(tool, []).append(p.name)
    return found


def refuse_other_tools(directory: Path, layout: Layout) -> None:
    """Exit 2, before any work, when ``directory`` holds another tool's migrations than ``layout``'s."""
    found = tools_in(directory)
    others = [t for t in found if t != layout]
    if not others:
        return
    held = "; ".join(f"{TOOLS[t]}'s ({', '.join(found[t][:2])}{', …' if len(found[t]) > 2 else ''})" for t in found)
    what = "several tools' migrations" if len(found) > 1 else "another tool's migrations"
    raise MigrationError(
        f"{directory} holds {what}: {held}: {TOOLS[layout]} would never run those, nor the others its files, so "
        f"which tool runs this folder is ambiguous and --layout {layout} writes nothing there; give the layout of "
        "the tool that runs it, or another --emit folder").with_exit(2)


def refuse_running_first(directory: Path, layout: Layout, files: list[Path]) -> None:
    """Exit 2 when a migration already in ``directory`` would run after the first one pgtune writes: the tool
    runs them in order, and pgtune's, first on a fresh database, would meet no table yet (u4's F4 for the names
    the stamp after the newest cannot follow: a hand-named folder, digits that are no time)."""
    key = _order(layout)
    ours = {(p.parent if p.parent != directory else p).name for p in files}
    first = min((n for n in ours if key(n)), key=key, default=None)
    theirs = [n for n in tools_in(directory).get(layout, []) if n not in ours and n != "migration_lock.toml"]
    later = [n for n in theirs if first is not None and key(n) > key(first)]
    if first is not None and later:
        raise MigrationError(
            f"{directory / later[-1]} runs after {first}, the first migration pgtune would write there "
            f"({TOOLS[layout]} runs them in {'name' if layout == Layout.PRISMA else 'version'} order): on a fresh "
            "database pgtune's would run before it; pgtune does not rename a migration it did not write: name it "
            "with a timestamp, or give another --emit folder").with_exit(2)


def _order(layout: Layout) -> Callable[[str], Any]:
    """How ``layout``'s tool orders its migrations: Prisma by folder name, the others by version number (a
    Flyway repeatable migration, ``R__…``, has none: it runs after every versioned one anyway)."""
    if layout == Layout.PRISMA:
        return str
    pattern = _FLYWAY if layout == Layout.FLYWAY else _GOLANG

    def version(name: str) -> tuple[int, ...]:
        found = pattern.fullmatch(name)
        digits = found.group(1) if found else None
        return tuple(int(d) for d in re.split(r"[._]", digits)) if digits else ()
    return version


def numbered(directory: Path, layout: Layout) -> Callable[[int], str] | None:
    """The versions pgtune's migrations take in a Flyway or golang-migrate folder numbered by sequence: the i-th
    is the next number after the highest version there, as wide (zero-padded), its other parts kept (V1_2 -> V1_3).

    A timestamp (14 digits that read as a time, as ``migrate create`` writes by default) is followed by a
    timestamp (None). Any other scheme by its own next number: a stamp would jump ahead of it, and the team's
    next ``V13__`` or ``migrate create -seq`` (the last file's number + 1) would sort before pgtune's, which
    Flyway refuses as out of order and golang-migrate never runs on a database already past it. Both tools
    compare versions as numbers (Flyway part by part), so the width only keeps the names in order when listed.
    """
    if layout not in (Layout.FLYWAY, Layout.GOLANG_MIGRATE):
        return None
    key = _order(layout)
    pattern = _FLYWAY if layout == Layout.FLYWAY else _GOLANG
    found = [(key(n), digits) for n in tools_in(directory).get(layout, [])
             if (m := pattern.fullmatch(n)) and (digits := m.group(1))]
    if not found or _stamp(max(found)[1]):
        return None
    head, last = re.fullmatch(r"(.*?)(\d+)", max(found)[1]).groups()    # type: ignore[union-attr]
    return lambda i: f"{head}{int(last) + 1 + i:0{len(last)}d}"


def _stamp(digits: str) -> bool:
    """A version whose first part is fourteen digits that read as a time (YYYYMMDDHHMMSS): a folder numbered by
    timestamp (pgtune's own Flyway ``V<stamp>_01__`` too, which a sequence would continue as ``_05``)."""
    first = re.split(r"[._]", digits)[0]
    try:
        return len(first) == 14 and bool(datetime.strptime(first, "%Y%m%d%H%M%S"))
    except ValueError:
        return False
