"""Plan: the phased migration model, written to and read from a folder.

A migration folder holds ``manifest.json`` (phases, planned objects, targeted
statements with their baseline cost, and a SHA-256 of every file) plus, per
phase, ``NN_up.sql`` and ``NN_down.sql``. The scripts are the source of truth:
``pgtune apply`` runs exactly what a DBA reviewed, and they also run with
``psql -v ON_ERROR_STOP=1 -f``. An edited file no longer matches its checksum
and is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from . import ddl
from .analyze.advisor import Advice, IndexSuggestion
from .analyze.candidates import Origin
from .constraints.model import ConstraintKind, Proposal
from .duration import check_timeout
from .errors import ChecksumMismatch, MigrationError

MANIFEST = "manifest.json"
TARGETS = "targets.json"     # targeted statements and their baselines, for verify
FORMAT_VERSION = 1


@dataclass
class PlannedIndex:
    schema: str
    table: str
    name: str
    ddl: str
    rollback: str
    analyze: str
    reason: str = ""


@dataclass
class PlannedConstraint:
    """A CHECK constraint: added NOT VALID in one phase, validated in the next.

    For kind ``not-null`` the validate phase also runs SET NOT NULL (the
    validated check spares its scan) and then drops the helper check.
    """

    kind: ConstraintKind
    schema: str
    table: str
    name: str
    columns: list[str]
    add: str                      # ALTER TABLE … ADD CONSTRAINT … NOT VALID
    validate: str                 # ALTER TABLE … VALIDATE CONSTRAINT …
    drop: str                     # ALTER TABLE … DROP CONSTRAINT IF EXISTS …
    set_not_null: str | None = None
    drop_not_null: str | None = None


class PhaseStep(StrEnum):
    """What a phase does: build indexes, add CHECK constraints NOT VALID, or validate them."""

    INDEXES = "indexes"
    ADD_NOT_VALID = "add-not-valid"
    VALIDATE = "validate"


@dataclass
class Phase:
    number: int
    name: str
    reason: str
    indexes: list[PlannedIndex] = field(default_factory=list)
    constraints: list[PlannedConstraint] = field(default_factory=list)
    step: PhaseStep = PhaseStep.INDEXES

    @property
    def up_file(self) -> str:
        return f"{self.number:02d}_up.sql"

    @property
    def down_file(self) -> str:
        return f"{self.number:02d}_down.sql"


@dataclass
class Target:
    """A statement the migration promises to speed up; verify re-plans it."""

    queryid: int | None
    query: str
    calls: int
    baseline_cost: float | None
    expected_indexes: list[str] = field(default_factory=list)
    param_types: list[str] = field(default_factory=list)   # of $1..$n, as the server inferred them
    baseline_ms: float | None = None                        # measured at emit with --analyze
    baseline_plan: dict[str, Any] | None = None             # EXPLAIN (FORMAT JSON) at emit

@dataclass
class Migration:
    id: str
    created: str
    server_version: str
    phases: list[Phase]
    targets: list[Target] = field(default_factory=list)
    lock_timeout: str = "5s"
    statement_timeout: str = "1min"
    checksums: dict[str, str] = field(default_factory=dict)

    def phase(self, number: int) -> Phase:
        for p in self.phases:
            if p.number == number:
                return p
        raise MigrationError(f"migration {self.id} has no phase {number} "
                             f"(phases: {', '.join(str(p.number) for p in self.phases)})")


def build(advice: Advice, *, slug: str = "indexes", lock_timeout: str = "5s",
          statement_timeout: str = "1min", first_phase_share: float = 0.8,
          now: datetime | None = None, constraints: list[Proposal] | None = None) -> Migration:
    """Group the advice into phases, cheapest risk first.

    Phase 1 holds the indexes that together remove ``first_phase_share`` of the
    workload cost the advice saves (heuristic mode: those serving the most
    calls), plus foreign-key indexes the workload joins on; phase 2 the rest.
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    ordered = sorted(advice.indexes, key=lambda s: -_benefit(s))
    total = sum(_benefit(s) for s in ordered)
    first: list[IndexSuggestion] = []
    rest: list[IndexSuggestion] = []
    running = 0.0
    for s in ordered:
        # Foreign-key indexes exist only where the workload joins or the parent sees deletes: hot.
        if s.origin == Origin.FOREIGN_KEY and first_phase_share > 0:
            first.append(s)
        elif (total > 0 and running < first_phase_share * total) or (not rest and not first):
            first.append(s)
            running += _benefit(s)
        else:
            rest.append(s)
    phases: list[Phase] = []
    if first:
        phases.append(Phase(1, "indexes for the costliest statements and hot foreign keys",
                            f"these {len(first)} indexes remove at least {first_phase_share:.0%} "
                            "of the workload cost the migration saves, or index a foreign key the "
                            "workload joins on or whose parent sees deletes",
                            [_planned(s) for s in first]))
    if rest:
        phases.append(Phase(len(phases) + 1, "remaining indexes",
                            "the smaller gains, built once phase 1 has proven itself",
                            [_planned(s) for s in rest]))
    planned = [planned_constraint(p) for p in constraints or ()]
    if planned:
        phases.append(Phase(len(phases) + 1, "CHECK constraints, NOT VALID",
                            "each ADD CONSTRAINT … NOT VALID holds its lock for an instant and scans nothing; "
                            "new rows are checked from now on",
                            constraints=planned, step=PhaseStep.ADD_NOT_VALID))
        phases.append(Phase(len(phases) + 1, "validate CHECK constraints",
                            "VALIDATE scans under SHARE UPDATE EXCLUSIVE, so reads and writes go on; "
                            "NOT NULL is then set without a scan thanks to the validated check",
                            constraints=planned, step=PhaseStep.VALIDATE))
    by_query: dict[str, Target] = {}
    for stmt in advice.statements:
        if stmt.indexes:
            by_query[stmt.query] = Target(stmt.queryid, stmt.query, stmt.calls, stmt.cost_before,
                                          list(stmt.indexes))
    if advice.method != "hypopg":
        for s in advice.indexes:
            for q in s.queries:
                t = by_query.setdefault(q.query, Target(q.queryid, q.query, q.calls, None))
                if s.name not in t.expected_indexes:
                    t.expected_indexes.append(s.name)
    return Migration(id=f"{stamp}_{_slug(slug)}", created=stamp, server_version=advice.server_version,
                     phases=phases, targets=list(by_query.values()), lock_timeout=lock_timeout,
                     statement_timeout=statement_timeout)


def _benefit(s: IndexSuggestion) -> float:
    if s.cost_before is not None and s.cost_after is not None:
        return max(s.cost_before - s.cost_after, 0.0)
    return float(sum(q.calls for q in s.queries))


def planned_constraint(p: Proposal) -> PlannedConstraint:
    """A proposal's statements, by name, as the migration runs them."""
    st = p.statements
    return PlannedConstraint(p.kind, p.schema, p.table, p.name, list(p.columns), add=st.add, validate=st.validate,
                             drop=st.drop, set_not_null=st.set_not_null, drop_not_null=st.undo_not_null)


def _planned(s: IndexSuggestion) -> PlannedIndex:
    return PlannedIndex(s.schema, s.table, s.name, s.ddl, s.rollback, s.analyze, s.reason)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "migration"


def _literal(value: str) -> str:
    # Timeouts are validated by _check_timeout, so quoting them is safe.
    return "'" + value + "'"


_check_timeout = check_timeout


def _settings(m: Migration, *, statement_limit: bool) -> list[str]:
    """The session settings every script starts with.

    standard_conforming_strings is forced on because pgtune printed every
    literal for that reading; lock_timeout keeps a blocked DDL from queueing
    application traffic behind it.
    """
    return [
        "SET standard_conforming_strings = on;",
        f"SET lock_timeout = {_literal(_check_timeout(m.lock_timeout))};",
        f"SET statement_timeout = {_literal(_check_timeout(m.statement_timeout)) if statement_limit else '0'};",
    ]


def _squawk_ignore(stmt: str, rule: str, reason: str) -> str:
    """``stmt`` with its reason and squawk's ignore comment on the lines just before its DROP keyword.

    squawk reports (and ignores) by the line of the offending keyword; a table
    or column name holding a line break would push that keyword away from
    comments placed above the whole statement.
    """
    from pglast.parser import scan

    drop = next((t.start for t in scan(stmt)[2:] if t.name == "DROP"), 0)
    head = stmt[:drop].rstrip()
    return f"{head}{chr(10) if head else ''}-- {reason}\n-- squawk-ignore {rule}\n{stmt[drop:]}"


def _c(text: str) -> str:
    """A comment line; anything read from the database goes through ddl.comment."""
    return "-- " + ddl.comment(text)


def up_script(m: Migration, phase: Phase) -> str:
    if phase.step == PhaseStep.ADD_NOT_VALID:
        return _add_constraints_up(m, phase)
    if phase.step == PhaseStep.VALIDATE:
        return _validate_up(m, phase)
    lines = [
        _c(f"pgtune migration {m.id}, phase {phase.number} of {len(m.phases)}: {phase.name}"),
        _c(f"Why this phase: {phase.reason}."),
        _c("Run outside a transaction block: psql -v ON_ERROR_STOP=1 -f " + phase.up_file),
        "-- CREATE INDEX CONCURRENTLY does not block writes. If a build is interrupted it leaves an",
        "-- INVALID index that IF NOT EXISTS would skip: `pgtune apply` drops and rebuilds it; by hand,",
        _c("run the matching DROP INDEX CONCURRENTLY from " + phase.down_file + " and re-run this file."),
        "-- Index builds take as long as they take: no statement limit.",
        *_settings(m, statement_limit=False),
        "",
    ]
    tables: list[tuple[str, str, str]] = []
    for ix in phase.indexes:
        lines.append(_c(ix.reason))
        lines.append(ix.ddl + ";")
        lines.append("")
        if (ix.schema, ix.table) not in [(s, t) for s, t, _ in tables]:
            tables.append((ix.schema, ix.table, ix.analyze))
    lines.append("-- Fresh statistics so the planner costs the new indexes right away.")
    lines.append(f"SET statement_timeout = {_literal(_check_timeout(m.statement_timeout))};")
    lines.extend(a + ";" for _, _, a in tables)
    return "\n".join(lines) + "\n"


def _header(m: Migration, phase: Phase, file: str, what: str) -> list[str]:
    return [
        _c(f"pgtune migration {m.id}, phase {phase.number} of {len(m.phases)}: {what}"),
        _c(f"Why this phase: {phase.reason}."),
        _c("Run with pgtune apply (it skips what already exists), or: psql -v ON_ERROR_STOP=1 -f " + file),
    ]


def _add_constraints_up(m: Migration, phase: Phase) -> str:
    lines = _header(m, phase, phase.up_file, phase.name) + _settings(m, statement_limit=True)
    for c in phase.constraints:
        lines += ["", _c(f"{c.kind} on {', '.join(c.columns)}: holds for every current row (checked at emit)."),
                  "BEGIN;", c.add + ";", "COMMIT;"]
    return "\n".join(lines) + "\n"


def _validate_up(m: Migration, phase: Phase) -> str:
    lines = _header(m, phase, phase.up_file, phase.name)
    lines.append("-- VALIDATE reads the whole table but blocks no writes: no statement limit.")
    lines += _settings(m, statement_limit=False)
    for c in phase.constraints:
        lines += ["", "BEGIN;", c.validate + ";", "COMMIT;"]
    not_null = [c for c in phase.constraints if c.set_not_null]
    if not_null:
        lines += ["", "-- SET NOT NULL takes ACCESS EXCLUSIVE, but the validated check proves the column has",
                  "-- no NULL, so the server skips the scan: the lock lasts an instant.",
                  f"SET statement_timeout = {_literal(_check_timeout(m.statement_timeout))};"]
        for c in not_null:
            lines += ["BEGIN;", f"{c.set_not_null};",
                      _squawk_ignore(c.drop, "ban-drop-constraint", "The helper check is redundant once the "
                                     "column is NOT NULL: dropping it is the plan.") + ";", "COMMIT;"]
    return "\n".join(lines) + "\n"


def _constraints_down(m: Migration, phase: Phase) -> str:
    lines = [
        _c(f"pgtune migration {m.id}, phase {phase.number} rollback: undoes {phase.up_file}."),
        _c("Run with pgtune rollback, or: psql -v ON_ERROR_STOP=1 -f " + phase.down_file),
        *_settings(m, statement_limit=True),
    ]
    header = len(lines)
    for c in reversed(phase.constraints):
        if phase.step == PhaseStep.VALIDATE:
            if c.drop_not_null:
                lines += ["BEGIN;", _squawk_ignore(c.drop_not_null, "ban-drop-not-null", "Rollback restores the "
                                                   "column as it was before this migration.") + ";", "COMMIT;"]
        else:
            lines += ["BEGIN;", _squawk_ignore(c.drop, "ban-drop-constraint",
                                               "Rollback removes the constraint this migration added.") + ";",
                      "COMMIT;"]
    if len(lines) == header:
        lines.append("-- Nothing to undo: a validated constraint is removed by the previous phase's rollback.")
    return "\n".join(lines) + "\n"


def down_script(m: Migration, phase: Phase) -> str:
    if phase.step != PhaseStep.INDEXES:
        return _constraints_down(m, phase)
    lines = [
        _c(f"pgtune migration {m.id}, phase {phase.number} rollback: drops what {phase.up_file} created."),
        _c("Run outside a transaction block: psql -v ON_ERROR_STOP=1 -f " + phase.down_file),
        "-- DROP INDEX CONCURRENTLY waits for running transactions, never blocks writes: no statement limit.",
        *_settings(m, statement_limit=False),
        "",
    ]
    for ix in reversed(phase.indexes):
        lines.append(ix.rollback + ";")
    return "\n".join(lines) + "\n"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def emit(m: Migration, directory: Path) -> Path:
    """Write the migration folder; refuse to overwrite a different migration."""
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
        return _write(m, directory)
    except OSError as exc:
        raise MigrationError(f"cannot write the migration to {directory}: {exc.strerror or exc}") from None


def check_writable(directory: Path) -> None:
    """Refuse, before any work, a target that is a file or sits where nothing can be written."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise MigrationError(f"{directory} exists and is not a folder: choose another --emit folder")
    probe = directory
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise MigrationError(f"cannot create {directory}: {probe} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise MigrationError(f"cannot write the migration to {directory}: {probe} is not writable")


def _write(m: Migration, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    for phase in m.phases:
        files[phase.up_file] = up_script(m, phase)
        files[phase.down_file] = down_script(m, phase)
    files[TARGETS] = json.dumps([asdict(t) for t in m.targets], indent=1) + "\n"
    m.checksums = {name: sha256(text) for name, text in files.items()}
    for name, text in files.items():
        # Bytes, not text mode: a name holding a carriage return must survive to the checksum.
        (directory / name).write_bytes(text.encode())
    manifest = {"format": FORMAT_VERSION, **asdict(m)}
    del manifest["targets"]
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
        if raw.pop("format", None) != FORMAT_VERSION:
            raise MigrationError(f"{path}: unknown manifest format")
        raw["phases"] = [Phase(p["number"], p["name"], p["reason"],
                               [PlannedIndex(**ix) for ix in p["indexes"]],
                               [PlannedConstraint(**{**c, "kind": ConstraintKind(c["kind"])})
                                for c in p.get("constraints", [])],
                               PhaseStep(p.get("step", "indexes"))) for p in raw["phases"]]
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
    return m


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
