"""A migration written for the tool a team already runs: Prisma Migrate, Flyway or golang-migrate.

Each tool runs a file its own way, and CREATE INDEX CONCURRENTLY cannot run
inside a transaction block:

* Prisma Migrate sends a ``migration.sql`` as one query: several statements
  become one implicit transaction. So every file holds exactly one statement,
  in its own folder, in phase order. Timeouts cannot ride along in the file: set
  ``lock_timeout`` on the role that runs migrations (docs/prisma.md).
* golang-migrate (PostgreSQL driver) sends a file as one query too: a
  concurrent build is alone in its file; other statements carry
  ``SET LOCAL`` timeouts, which hold for the file's implicit transaction.
* Flyway splits a script into statements; a script with a concurrent build
  runs outside a transaction by its ``.sql.conf`` (``executeInTransaction=false``),
  so session ``SET``s carry the timeouts and are reset at its end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from .. import ddl
from ..errors import MigrationError
from .model import Migration, Phase, PhaseStep
from .render import _squawk_ignore, _timeout, up_script


class Layout(StrEnum):
    PGTUNE = "pgtune"
    PRISMA = "prisma"
    FLYWAY = "flyway"
    GOLANG_MIGRATE = "golang-migrate"


@dataclass(frozen=True)
class Step:
    """One statement of the migration, with what undoes it."""

    phase: Phase
    name: str
    up: str
    down: str | None
    concurrent: bool          # CREATE/DROP INDEX CONCURRENTLY: never inside a transaction
    scans: bool = False       # VALIDATE reads the whole table (blocking no writes): no statement limit
    down_rule: str | None = None   # the squawk rule its undo breaks on purpose (dropping what it added)
    follows: bool = False     # part of the step before (SET NOT NULL after its VALIDATE): same file where it can be
    up_rule: str | None = None     # the squawk rule it breaks when it stands in a file of its own, and why not
    restores: tuple[str, ...] = ()  # run after ``down``, outside its build: an index's statistics, comment, CLUSTER
    note: str | None = None        # what the reader should know (an existing index's definition at emit)


def steps(m: Migration) -> list[Step]:
    out: list[Step] = []
    for p in m.phases:
        if p.step == PhaseStep.INDEXES:
            out += [Step(p, ix.name, ix.ddl, ix.rollback, True) for ix in p.indexes]
            tables = dict.fromkeys((ix.table, ix.analyze) for ix in p.indexes)
            out += [Step(p, f"analyze_{table}", a, None, False) for table, a in tables]
        elif p.step == PhaseStep.ADD_NOT_VALID:
            out += [Step(p, c.name, c.add, c.drop, False, down_rule="ban-drop-constraint") for c in p.constraints]
        elif p.step == PhaseStep.VALIDATE:
            for c in p.constraints:
                out.append(Step(p, f"validate_{c.name}", c.validate, None, False, scans=True))
                if c.set_not_null:
                    out.append(Step(p, f"not_null_{c.columns[0]}", c.set_not_null, c.drop_not_null, False,
                                    down_rule="ban-drop-not-null", follows=True, up_rule="adding-not-nullable-field"))
                    out.append(Step(p, f"drop_{c.name}", _squawk_ignore(
                        c.drop, "ban-drop-constraint", "The helper check is redundant once the column is NOT NULL: "
                        "dropping it is the plan."), None, False, follows=True))
        elif p.step == PhaseStep.REBUILD:
            # REINDEX / DROP and CREATE INDEX CONCURRENTLY: each alone; a rebuild has nothing to undo.
            out += [Step(p, f"rebuild_{ix.name}", st, None, True, note="Definition at emit: " + ix.definition)
                    for ix in p.existing for st in ix.statements]
        elif p.step == PhaseStep.VALIDATE_EXISTING:
            out += [Step(p, f"validate_{c.name}", c.validate, None, False, scans=True) for c in p.existing_constraints]
        elif p.step == PhaseStep.DROP_INDEXES:
            for ix in p.existing:
                first, *more = ix.statements
                out.append(Step(p, f"drop_{ix.name}", first, ix.restore[0] if ix.restore else None, True,
                                restores=tuple(ix.restore[1:]), note="Definition at emit: " + ix.definition))
                out += [Step(p, f"drop_{ix.name}", st, None, True) for st in more]
        else:
            raise MigrationError(f"phase {p.number} ({p.step}) has no {Layout.PRISMA}/{Layout.FLYWAY}/"
                                 f"{Layout.GOLANG_MIGRATE} layout: emit it in pgtune's own layout")
    return out


def write(m: Migration, directory: Path, layout: Layout, *, now: datetime | None = None) -> list[Path]:
    """Write ``m`` into the tool's migrations folder; return the files written.

    Every file is composed and checked first: if any would overwrite something,
    nothing is written (a half-written set would run half a migration).
    """
    directory = Path(directory)
    start = (now or datetime.now(UTC)).replace(microsecond=0)
    todo = steps(m)
    if layout == Layout.PRISMA:
        files = _prisma(m, directory, todo, start)
    elif layout == Layout.GOLANG_MIGRATE:
        files = _golang_migrate(m, directory, todo, start)
    elif layout == Layout.FLYWAY:
        files = _flyway(m, directory, start)
    else:
        raise MigrationError(f"unknown layout {layout}")
    taken = [p for p in files if p.exists() or (p.parent != directory and p.parent.exists())]
    if taken:
        raise MigrationError(f"{taken[0]} already exists: pgtune does not overwrite another migration")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    return list(files)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60] or "step"


def _c(text: str) -> str:
    return "-- " + ddl.comment(text)




def _alone(stmt: str, reason: str, extra: tuple[str, ...] = ()) -> list[str]:
    """A statement that must be alone in its file, with squawk told why no SET precedes it."""
    rules = ", ".join(("require-lock-timeout", "require-statement-timeout", *extra))
    return [_c(reason), f"-- squawk-ignore {rules}", stmt + ";"]


def _prisma(m: Migration, directory: Path, todo: list[Step], start: datetime) -> dict[Path, str]:
    files: dict[Path, str] = {}
    for i, st in enumerate(todo):
        folder = directory / f"{(start + timedelta(seconds=i)).strftime('%Y%m%d%H%M%S')}_pgtune_{_slug(st.name)}"
        lines = [
            _c(f"pgtune migration {m.id}, phase {st.phase.number}: {st.phase.name}."),
            "-- Prisma runs this file as one query, so it holds exactly one statement (a concurrent build",
            "-- cannot run inside the transaction several statements would make). Timeouts are not in the",
            _c(f"file: give the migration role lock_timeout = {m.lock_timeout} (ALTER ROLE ... SET lock_timeout)."),
        ]
        if st.concurrent and st.down:
            lines += [
                "-- If the build fails, Prisma marks this migration failed and the index is left INVALID: run",
                _c(f"  {st.down};"),
                _c(f"  npx prisma migrate resolve --rolled-back {folder.name}"),
                "-- then deploy again.",
            ]
        if st.note:
            lines.append(_c(st.note))
        if st.down:
            lines.append(_c(f"To undo (Prisma has no down migrations): {st.down};"))
            lines += [_c(f"  then: {r};") for r in st.restores]
        # One statement, one query: it is atomic on its own, and the role's settings are its timeouts.
        extra: tuple[str, ...] = () if st.concurrent else ("prefer-robust-stmts",)
        if st.up_rule:
            lines.append("-- The CHECK (… IS NOT NULL) validated by the migration before this one lets PostgreSQL")
            lines.append("-- skip the scan: SET NOT NULL holds its lock for an instant.")
            extra += (st.up_rule,)
        lines += _alone(st.up, "Alone in the file: the migration role's lock_timeout applies.", extra)
        files[folder / "migration.sql"] = "\n".join(lines) + "\n"
    return files


def _in_transaction(m: Migration, stmt: str, *, scans: bool = False) -> list[str]:
    """``stmt`` in an explicit transaction with its timeouts (SET LOCAL), as one file of one query may hold it."""
    return ["BEGIN;", "SET LOCAL standard_conforming_strings = on;",
            f"SET LOCAL lock_timeout = {_timeout(m.lock_timeout)};",
            f"SET LOCAL statement_timeout = {'0' if scans else _timeout(m.statement_timeout)};",
            stmt + ";", "COMMIT;"]


def _golang_migrate(m: Migration, directory: Path, todo: list[Step], start: datetime) -> dict[Path, str]:
    groups: list[list[Step]] = []
    for st in todo:
        if st.restores:
            # The build in the down file must be alone in its query; what else restores the index goes in
            # the down file of a migration just before, which migrate down runs right after it.
            index = st.name.removeprefix("drop_")
            groups.append([Step(st.phase, f"{st.name}_settings", "", None, False, restores=st.restores, note=(
                f"Nothing to do on the way up: the down file gives {index} back what the drop took with it, "
                "after the next migration's down file has built the index again."))])
        if st.follows and groups:
            groups[-1].append(st)       # SET NOT NULL in the file of its VALIDATE: squawk sees the check
        else:
            groups.append([st])
    files: dict[Path, str] = {}
    reason = ("golang-migrate sends a file as one query: a concurrent build stays alone in it (the migration "
              f"role's lock_timeout, {m.lock_timeout} advised, applies)")
    for i, group in enumerate(groups):
        first = group[0]
        stem = f"{(start + timedelta(seconds=i)).strftime('%Y%m%d%H%M%S')}_pgtune_{_slug(first.name)}"
        head = [_c(f"pgtune migration {m.id}, phase {first.phase.number}: {first.phase.name}.")]
        if len(group) > 1:
            head.append("-- One transaction per statement (BEGIN … COMMIT), all in the one query the tool sends.")
        up, down = list(head), list(head)
        for st in group:
            if st.note:
                up.append(_c(st.note))
            if st.up:
                up += _alone(st.up, reason) if st.concurrent else _in_transaction(m, st.up, scans=st.scans)
        for st in reversed(group):
            if not st.up:           # the restores' own migration (above): the drop's down file builds the index
                for r in st.restores:
                    down += _in_transaction(m, r)
            if st.down is None:
                continue
            if st.concurrent:
                down += _alone(st.down, reason)
            else:
                undo = (_squawk_ignore(st.down, st.down_rule, "The rollback undoes what this migration did.")
                        if st.down_rule else st.down)
                down += _in_transaction(m, undo)
        if len(down) == len(head):
            down.append("-- Nothing to undo.")
        for suffix, lines in (("up", up), ("down", down)):
            files[directory / f"{stem}.{suffix}.sql"] = "\n".join(lines) + "\n"
    return files


def _flyway(m: Migration, directory: Path, start: datetime) -> dict[Path, str]:
    """pgtune's own up scripts (they run statement by statement, as Flyway does), outside Flyway's transaction."""
    files: dict[Path, str] = {}
    stamp = start.strftime("%Y%m%d%H%M%S")
    steps(m)                    # refuses phases the layouts cannot carry
    for phase in m.phases:
        path = directory / f"V{stamp}_{phase.number:02d}__pgtune_{_slug(phase.name)}.sql"
        text = up_script(m, phase, down_file=False) + (
            "-- Flyway keeps the connection: the session settings go back.\n"
            "RESET lock_timeout;\nRESET statement_timeout;\nRESET standard_conforming_strings;\n")
        files[path] = text
        # Concurrent builds cannot run in Flyway's transaction; the constraint phases bring their own BEGIN/COMMIT.
        files[path.with_name(path.name + ".conf")] = "executeInTransaction=false\n"
    return files
