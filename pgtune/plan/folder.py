"""The migration folder on disk: writing it whole, reading it back, and refusing edited files."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..constraints.model import ConstraintKind
from ..errors import ChecksumMismatch, MigrationError
from ..script import split, units
from .layouts import Layout
from .model import (
    FORMAT_VERSION,
    MANIFEST,
    TARGETS,
    ExistingConstraint,
    ExistingIndex,
    IndexFix,
    Migration,
    PartitionIndex,
    Phase,
    PhaseStep,
    PlannedConstraint,
    PlannedExtension,
    PlannedIndex,
    PlannedSetting,
    PlannedStatistics,
    SettingScope,
    Target,
)
from .recipe import Item
from .render import down_items, print_items, steps_of, up_items
from .steps import Step
from .tool_folder import refuse_other_tools


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def targets_shape(text: str) -> str:
    """A digest of targets.json's ``text`` with each value of ``values`` and ``scenarios[].values`` blanked (their
    ``$n`` kept): the same for two files that differ only in the values a DBA may edit."""
    raw = json.loads(text)
    if not isinstance(raw, list):
        raise ValueError(f"{TARGETS} is not a list of targets")
    for t in raw:
        for values in [t.get("values"), *(s.get("values") for s in t.get("scenarios") or [])]:
            if isinstance(values, dict):
                values.update(dict.fromkeys(values, ""))
    return sha256(json.dumps(raw, sort_keys=True))


def emit(m: Migration, directory: Path, *, down: Callable[[list[Item]], list[Item]] | None = None) -> Path:
    """Write the migration folder; refuse to overwrite a different migration. ``down``: the down scripts as a
    layout writes them (prisma_layout.home_down: names unqualified where its migrations write them so)."""
    directory = Path(directory)
    check_writable(directory)
    if (directory / MANIFEST).exists():
        try:
            existing = json.loads((directory / MANIFEST).read_text())
        except (OSError, ValueError):
            existing = {}
        if existing.get("id") != m.id:
            raise MigrationError(f"{directory} already holds migration {existing.get('id')}; "
                                 "choose another --emit folder")
    try:
        return _write(m, directory, down)
    except OSError as exc:
        raise MigrationError(f"cannot write the migration to {directory}: {exc.strerror or exc}") from None


def check_writable(directory: Path, layout: Layout = Layout.PGTUNE) -> None:
    """Refuse, before any work, a target that is a file or sits where nothing can be written.

    Or Prisma Migrate's folder (its migration_lock.toml) for any layout but
    Prisma's: loose files there are never run by Prisma, and the DBA would
    believe them deployed (u2's R9). Or, for a tool's layout, a folder holding
    another tool's migrations (tool_folder, n38).
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise MigrationError(f"{directory} exists and is not a folder: choose another --emit folder")
    if layout != Layout.PRISMA and (directory / "migration_lock.toml").is_file():
        raise MigrationError(f"{directory} is Prisma Migrate's folder (it holds migration_lock.toml): add "
                             "--layout prisma to write migrations Prisma runs, or choose another --emit folder")
    if layout != Layout.PGTUNE:
        refuse_other_tools(directory, layout)
    probe = directory
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise MigrationError(f"cannot create {directory}: {probe} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise MigrationError(f"cannot write the migration to {directory}: {probe} is not writable")


def _write(m: Migration, directory: Path, homed: Callable[[list[Item]], list[Item]] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    for phase in m.phases:
        up, down = up_items(m, phase), down_items(m, phase)
        down = homed(down) if homed is not None else down
        files[phase.up_file], files[phase.down_file] = print_items(up), print_items(down)
        phase.up, phase.down = steps_of(up), steps_of(down)
    files[TARGETS] = json.dumps([asdict(t) for t in m.targets], indent=1) + "\n"
    m.checksums = {name: sha256(text) for name, text in files.items()}
    m.targets_shape = targets_shape(files[TARGETS])
    for name, text in files.items():
        # Bytes, not text mode: a name holding a carriage return must survive to the checksum.
        (directory / name).write_bytes(text.encode())
    manifest = {"format": FORMAT_VERSION, **asdict(m)}
    del manifest["targets"]
    for raw, phase in zip(manifest["phases"], m.phases, strict=True):
        raw["up"], raw["down"] = [s.as_json() for s in phase.up], [s.as_json() for s in phase.down]
    tmp = directory / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    tmp.replace(directory / MANIFEST)   # the manifest appears whole or not at all
    return directory


def load(directory: Path, *, check: bool = True) -> Migration:
    """Read a migration folder; with ``check``, refuse any file whose checksum changed."""
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.exists():
        raise MigrationError(f"{directory} is not a pgtune migration folder (no {MANIFEST})")
    try:
        raw: dict[str, Any] = json.loads(path.read_text())
        version = raw.pop("format", None)
        if version != FORMAT_VERSION:
            raise MigrationError(_format_error(path, version))
        raw["phases"] = [_phase(p) for p in raw["phases"]]
        targets = directory / TARGETS
        if not targets.exists():
            raise MigrationError(f"{directory} has no {TARGETS}: the migration is incomplete "
                                 "(verify would have nothing to check); re-emit it")
        raw["targets"] = [Target(**t) for t in json.loads(targets.read_text())]
        m = Migration(**raw)
    except (ValueError, KeyError, TypeError) as exc:
        raise MigrationError(f"{path} is not a valid manifest: {exc}") from None
    if check:
        bad = mismatches(m, directory)
        if bad:
            raise ChecksumMismatch(f"{', '.join(bad)} changed since emit (checksum mismatch): "
                                   "refusing to run unreviewed SQL; re-emit the migration")
        for phase in m.phases:
            match_steps(directory, phase.up_file, phase.up)
            match_steps(directory, phase.down_file, phase.down)
    return m


def _format_error(path: Path, version: object) -> str:
    if version == 1:
        return (f"{path} was written by an older pgtune (manifest format 1, without typed steps): re-emit the "
                "migration; to undo one applied with it, run its NN_down.sql files with psql -v ON_ERROR_STOP=1 -f")
    return f"{path}: unknown manifest format {version!r} (this pgtune reads format {FORMAT_VERSION})"


def _phase(p: dict[str, Any]) -> Phase:
    def partitions(raw: dict[str, Any]) -> dict[str, Any]:
        return {**raw, **{k: [PartitionIndex(**x) for x in raw.get(k, [])] for k in ("partitions", "attached")
                          if k in raw or k == "partitions"}}

    return Phase(p["number"], p["name"], p["reason"],
                 [PlannedIndex(**partitions(ix)) for ix in p["indexes"]],
                 [PlannedConstraint(**{**c, "kind": ConstraintKind(c["kind"])}) for c in p.get("constraints", [])],
                 PhaseStep(p.get("step", "indexes")),
                 [ExistingIndex(**{**partitions(e), "fix": IndexFix(e.get("fix", "drop"))})
                  for e in p.get("existing", [])],
                 [ExistingConstraint(**c) for c in p.get("existing_constraints", [])],
                 [Step.from_json(s) for s in p["up"]], [Step.from_json(s) for s in p["down"]],
                 [PlannedSetting(**{**s, "scope": SettingScope(s["scope"])}) for s in p.get("settings", [])],
                 [PlannedExtension(**e) for e in p.get("extensions", [])],
                 [PlannedStatistics(**x) for x in p.get("statistics", [])])


def match_steps(directory: Path, name: str, steps: list[Step]) -> None:
    """Refuse a script whose units are not its manifest's steps, one to one and in order.

    The scripts are what a DBA reviewed; the steps are what apply knows of
    each unit's object. A folder where they disagree was not written by
    pgtune's emit (or not whole), and nothing of it runs.
    """
    found = units(split(script(directory, name), name))
    for i, (unit, step) in enumerate(zip(found, steps, strict=False)):
        if unit.statements != step.sql or unit.block != step.block:
            raise MigrationError(f"{name}: unit {i + 1} ({_first_line(unit.text)}) is not the manifest's step "
                                 f"{i + 1} ({_first_line(step.text)}): the folder is inconsistent; re-emit it")
    if len(found) != len(steps):
        raise MigrationError(f"{name} has {len(found)} units, the manifest {len(steps)} steps: the folder is "
                             "inconsistent; re-emit it")


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 70 else line[:69] + "…"


def mismatches(m: Migration, directory: Path) -> list[str]:
    """Files that are missing or differ from the checksum recorded at emit."""
    bad = []
    for name, digest in sorted(m.checksums.items()):
        f = Path(directory) / name
        if not f.exists() or sha256(_read(f)) != digest:
            bad.append(name)
    return bad


def script(directory: Path, name: str) -> str:
    return _read(Path(directory) / name)


def _read(path: Path) -> str:
    """A script exactly as written (no newline translation), or one clear error."""
    try:
        return path.read_bytes().decode()
    except (OSError, UnicodeDecodeError) as exc:
        raise MigrationError(f"cannot read {path}: {exc}") from None
