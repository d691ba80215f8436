"""A migration written for the tool a team already runs: Prisma Migrate, Flyway or golang-migrate.

Each tool runs a file its own way, and CREATE INDEX CONCURRENTLY cannot run
inside a transaction block:

* Prisma Migrate sends a ``migration.sql`` as one simple-protocol query (its
  schema engine's ``simple_query``): several statements become one implicit
  transaction. So each concurrent statement (CREATE, DROP, REINDEX INDEX
  CONCURRENTLY) has a migration folder of its own, with no SET beside it: the
  role that runs migrations carries ``lock_timeout`` (docs/prisma.md). The
  other statements of a phase share one folder, each in its own
  ``BEGIN … COMMIT`` with ``SET LOCAL`` timeouts, and each safe to run twice,
  so a failed migration is resolved and deployed again. The recipe is written
  once, in the first folder; no comment holds a semicolon (Prisma's driver
  adapters split a file at every one).
* golang-migrate (PostgreSQL driver) sends a file as one query too: a
  concurrent build is alone in its file; other statements carry
  ``SET LOCAL`` timeouts, which hold for the file's implicit transaction.
* Flyway splits a script into statements; a script with a concurrent build
  runs outside a transaction by its ``.sql.conf`` (``executeInTransaction=false``),
  so session ``SET``s carry the timeouts and are reset at its end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from .. import ddl
from ..errors import MigrationError
from . import recipe
from .model import ExistingIndex, IndexFix, Migration, Phase, PhaseStep, PlannedIndex
from .recipe import ON_ONLY_REASON, PLAIN_DROP_REASON, drop_existing, for_tools, rebuild_existing, remove
from .render import _squawk_ignore, _timeout, gin_note, steps_of, up_script
from .steps import ObjectKind
from .steps import Step as PlanStep

# Tables that belong to a migration tool: no layout writes a statement on them.
LEDGERS = frozenset({"_prisma_migrations"})


class Layout(StrEnum):
    PGTUNE = "pgtune"
    PRISMA = "prisma"
    FLYWAY = "flyway"
    GOLANG_MIGRATE = "golang-migrate"


class StepKind(StrEnum):
    """What one statement of a layout does: each kind fails, recovers and is undone its own way."""

    BUILD = "build"                   # CREATE INDEX CONCURRENTLY of a planned index
    ANALYZE = "analyze"
    ADD_NOT_VALID = "add-not-valid"
    VALIDATE = "validate"
    SET_NOT_NULL = "set-not-null"
    DROP_HELPER = "drop-helper"       # the CHECK (… IS NOT NULL) once the column is NOT NULL
    REBUILD = "rebuild"               # an existing index: REINDEX, or dropped and built again
    DROP_INDEX = "drop-index"
    CREATE_EXTENSION = "create-extension"     # CREATE EXTENSION IF NOT EXISTS the indexes after it need (pg_trgm)
    CREATE_STATISTICS = "create-statistics"   # CREATE STATISTICS, then the table's ANALYZE


@dataclass(frozen=True)
class Step:
    """One statement of the migration, with what undoes it."""

    phase: Phase
    kind: StepKind
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
    typed: PlanStep | None = None  # the migration's own step (plan.steps): its object and action
    down_reason: str = "The rollback undoes what this migration did."   # why its undo breaks ``down_rule``
    undo_all: tuple[str, ...] = ()  # a partitioned index's ON ONLY: what removes all its recipe built, in order
    before: tuple[Step, ...] = ()  # golang-migrate: migrations just before this one (their downs run after its own)


def steps(m: Migration) -> list[Step]:
    out: list[Step] = []
    for p in m.phases:
        if p.step == PhaseStep.INDEXES:
            for planned in p.indexes:
                out += _partitioned_build(p, planned) if planned.partitioned else [
                    Step(p, StepKind.BUILD, f"build_{planned.name}", planned.ddl, planned.rollback, True,
                         note=gin_note(planned))]
            tables = dict.fromkeys((ix.table, ix.analyze) for ix in p.indexes)
            out += [Step(p, StepKind.ANALYZE, f"analyze_{table}", a, None, False) for table, a in tables]
        elif p.step == PhaseStep.ADD_NOT_VALID:
            out += [Step(p, StepKind.ADD_NOT_VALID, c.name, c.add, c.drop, False, down_rule="ban-drop-constraint")
                    for c in p.constraints]
        elif p.step == PhaseStep.VALIDATE:
            for c in p.constraints:
                out.append(Step(p, StepKind.VALIDATE, f"validate_{c.name}", c.validate, None, False, scans=True))
                if c.set_not_null:
                    out.append(Step(p, StepKind.SET_NOT_NULL, f"not_null_{c.table}_{c.columns[0]}", c.set_not_null,
                                    c.drop_not_null, False, down_rule="ban-drop-not-null", follows=True,
                                    up_rule="adding-not-nullable-field"))
                    out.append(Step(p, StepKind.DROP_HELPER, f"drop_{c.name}", _squawk_ignore(
                        c.drop, "ban-drop-constraint", "The helper check is redundant once the column is NOT NULL: "
                        "dropping it is the plan."), None, False, follows=True))
        elif p.step == PhaseStep.REBUILD:
            # REINDEX / DROP and CREATE INDEX CONCURRENTLY: each alone; a rebuild has nothing to undo, a completion
            # has (_uncomplete).
            for ix in p.existing:
                rebuilt = [Step(p, StepKind.REBUILD, f"rebuild_{ix.name}", st.text, None, True,
                                note="Definition at emit: " + ix.definition, typed=st)
                           for st in steps_of(rebuild_existing(ix))]
                if ix.fix == IndexFix.COMPLETE and rebuilt:
                    rebuilt[0] = _uncomplete(p, ix, rebuilt[0])
                out += rebuilt
        elif p.step == PhaseStep.VALIDATE_EXISTING:
            out += [Step(p, StepKind.VALIDATE, f"validate_{c.name}", c.validate, None, False, scans=True)
                    for c in p.existing_constraints]
        elif p.step == PhaseStep.DROP_INDEXES:
            for ix in p.existing:
                first, *more = steps_of(drop_existing(ix))
                out.append(Step(p, StepKind.DROP_INDEX, f"drop_{ix.name}", first.text,
                                ix.restore[0] if ix.restore else None, True, restores=tuple(ix.restore[1:]),
                                note="Definition at emit: " + ix.definition, typed=first))
                out += [Step(p, StepKind.DROP_INDEX, f"drop_{ix.name}", st.text, None, True, typed=st) for st in more]
        elif p.step == PhaseStep.EXTENSIONS:
            # Its undo only where this migration installs it (an extension there at emit is never dropped).
            out += [Step(p, StepKind.CREATE_EXTENSION, f"extension_{e.name}", e.create,
                         None if e.installed else e.drop, False, down_rule="ban-drop-extension")
                    for e in p.extensions]
        elif p.step == PhaseStep.STATISTICS:
            out += [Step(p, StepKind.CREATE_STATISTICS, st.name, st.create, st.drop, False) for st in p.statistics]
            analyzed = dict.fromkeys((st.table, st.analyze) for st in p.statistics)
            out += [Step(p, StepKind.ANALYZE, f"analyze_{table}", a, None, False) for table, a in analyzed]
        else:
            raise MigrationError(f"phase {p.number} ({p.step}) has no {Layout.PRISMA}/{Layout.FLYWAY}/"
                                 f"{Layout.GOLANG_MIGRATE} layout: emit it in pgtune's own layout")
    return out


def _partitioned_build(p: Phase, ix: PlannedIndex) -> list[Step]:
    """An index on a partitioned table as a tool's statements (recipe.for_tools; u13: the parent's CREATE INDEX
    CONCURRENTLY was written, which PostgreSQL refuses). ON ONLY shares a file (lock_timeout), a build is alone.

    Each step's down drops what it built. PostgreSQL detaches no partition's
    index: one attached goes only with its parent. So the first attach comes
    after a migration of its own (``before``) whose down drops the partitioned
    indexes ahead of the builds' downs, which then drop any partition's index a
    stopped run left unattached (m10: those were left behind).
    """
    removal = [st for st in remove(ix) if isinstance(st, PlanStep)]
    drops = tuple(_squawk_ignore(st.text, _PLAIN_DROP, PLAIN_DROP_REASON) for st in removal
                  if st.kind == ObjectKind.PARTITIONED_INDEX)
    unattach = Step(p, StepKind.BUILD, f"unattach_{ix.name}", "", None, False, restores=drops, note=(
        f"Nothing to do on the way up. On the way down, {ix.name} is dropped here, with every partition's index "
        "attached to it (PostgreSQL detaches none), before the earlier files drop the partitions' indexes a "
        "stopped run left unattached."))
    out: list[Step] = []
    for st in for_tools(ix):
        on_only = st.kind == ObjectKind.INDEX_ON_ONLY
        first_attach = st.kind == ObjectKind.ATTACH and not any(o.typed and o.typed.kind == st.kind for o in out)
        out.append(Step(p, StepKind.BUILD, f"{st.kind}_{st.name}", _squawk_ignore(
            st.text, "require-concurrent-index-creation", ON_ONLY_REASON) if on_only else st.text,
            st.undo[0] if st.undo else None, st.kind == ObjectKind.INDEX, typed=st,
            down_rule=_PLAIN_DROP if on_only else None, down_reason=PLAIN_DROP_REASON,
            undo_all=tuple(r.text for r in removal) if on_only and st.parent is None else (),
            before=(unattach,) if first_attach else ()))
    return out


def _uncomplete(p: Phase, ix: ExistingIndex, first: Step) -> Step:
    """A completion's first step, with what puts the partitioned index back as it was at emit (m10: migrate down
    left what up built). Prisma lists it under "To undo"; golang-migrate runs it in migrations just before the
    completion, nothing on the way up, whose downs run after the completion's (none), last first."""
    undo = [st for st in recipe.uncomplete(ix) if isinstance(st, PlanStep)]
    before = []
    for i, st in enumerate(undo):
        rule = {ObjectKind.PARTITIONED_INDEX: (_PLAIN_DROP, PLAIN_DROP_REASON),
                ObjectKind.INDEX_ON_ONLY: ("require-concurrent-index-creation", ON_ONLY_REASON)}.get(st.kind)
        before.append(Step(p, StepKind.REBUILD, f"uncomplete_{ix.name}_{i + 1}", "", st.text,
                           st.kind == ObjectKind.INDEX, down_rule=rule[0] if rule else None,
                           down_reason=rule[1] if rule else "", note=(
                               f"Nothing to do on the way up. On the way down, step {i + 1} of {len(undo)} putting "
                               f"{ix.name} back as it was at emit, after the completion's files: no partition's "
                               "index can be detached, so the partitioned index is dropped and made again.")))
    return replace(first, undo_all=tuple(st.text for st in undo), before=tuple(reversed(before)))


_PLAIN_DROP = "require-concurrent-index-deletion"


def without_ledgers(m: Migration) -> tuple[Migration, list[str]]:
    """``m`` without anything on a migration tool's own table (``_prisma_migrations``), and what was left out.

    Phases left empty go, and the rest are numbered again from 1.
    """
    left_out: dict[str, None] = {}      # in order, once each (a constraint stands in two phases)

    def keep(objects: list[Any], what: str) -> list[Any]:
        left_out.update((f"{what} {o.name} on {o.schema}.{o.table}", None) for o in objects if o.table in LEDGERS)
        return [o for o in objects if o.table not in LEDGERS]

    phases: list[Phase] = []
    for p in m.phases:
        q = replace(p, indexes=keep(p.indexes, "index"), constraints=keep(p.constraints, "constraint"),
                    existing=keep(p.existing, "index"), existing_constraints=keep(p.existing_constraints, "constraint"),
                    statistics=keep(p.statistics, "statistics"))
        if q.indexes or q.constraints or q.existing or q.existing_constraints or q.extensions or q.statistics:
            phases.append(replace(q, number=len(phases) + 1))
    return replace(m, phases=phases), list(left_out)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60] or "step"


def _c(text: str) -> str:
    return "-- " + ddl.comment(text)


def _alone(stmt: str, reason: str, extra: tuple[str, ...] = ()) -> list[str]:
    """A statement that must be alone in its file, with squawk told why no SET precedes it."""
    rules = ", ".join(("require-lock-timeout", "require-statement-timeout", *extra))
    return [_c(reason), f"-- squawk-ignore {rules}", stmt + ";"]


# The head of a file whose statements run as _in_transaction writes them.
_SEGMENTS = [
    "-- No BEGIN: the tool sends this file as one query, where each SET LOCAL ... COMMIT is a transaction of its",
    "-- own, and an error leaves the session idle so that the tool can record it. squawk reads no transaction.",
    "-- squawk-ignore-file transaction-nesting, prefer-robust-stmts",
]


def _in_transaction(m: Migration, *stmts: str, scans: bool = False) -> list[str]:
    """``stmts`` as one transaction of a file the tool sends as one query: SET LOCAL timeouts, then COMMIT.

    No BEGIN: the statements of one query already run in an implicit transaction, which COMMIT
    ends. An error then rolls back only that transaction and leaves the session idle, so the tool
    can still record the failure (after an explicit BEGIN the session would stay aborted and the
    tool's own bookkeeping statement would fail in its place).
    """
    return ["SET LOCAL standard_conforming_strings = on;",
            f"SET LOCAL lock_timeout = {_timeout(m.lock_timeout)};",
            f"SET LOCAL statement_timeout = {'0' if scans else _timeout(m.statement_timeout)};",
            *(stmt + ";" for stmt in stmts), "COMMIT;"]


def _golang_migrate(m: Migration, directory: Path, todo: list[Step], start: datetime,
                    number: Callable[[int], str] | None = None) -> dict[Path, str]:
    """``number``: the i-th migration's version in a folder numbered by sequence (tool_folder.numbered); else
    timestamps a second apart."""
    groups: list[list[Step]] = []
    for st in todo:
        groups += [[b] for b in st.before]
        if st.restores:
            # The build in the down file must be alone in its query; what else restores the index goes in
            # the down file of a migration just before, which migrate down runs right after it.
            index = st.name.removeprefix("drop_")
            groups.append([Step(st.phase, st.kind, f"{st.name}_settings", "", None, False, restores=st.restores, note=(
                f"Nothing to do on the way up: the down file gives {index} back what the drop took with it, "
                "after the next migration's down file has built the index again."))])
        if st.follows and groups:
            groups[-1].append(st)       # SET NOT NULL in the file of its VALIDATE: squawk sees the check
        else:
            groups.append([st])
    files: dict[Path, str] = {}
    reason = ("golang-migrate sends a file as one query: a concurrent build stays alone in it (the migration "
              f"role's lock_timeout, {m.lock_timeout} advised, applies, and its statement_timeout, 0 advised: a "
              "build cut by the server's or the database's is left INVALID)")
    for i, group in enumerate(groups):
        first = group[0]
        version = number(i) if number else (start + timedelta(seconds=i)).strftime("%Y%m%d%H%M%S")
        stem = f"{version}_pgtune_{_slug(first.name)}"
        head = [_c(f"pgtune migration {m.id}, phase {first.phase.number}: {first.phase.name}.")]
        if not all(st.concurrent for st in group):
            head += _SEGMENTS
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
                undo = _squawk_ignore(st.down, st.down_rule, st.down_reason) if st.down_rule else st.down
                down += _in_transaction(m, undo)
        if len(down) == len(head):
            down.append("-- Nothing to undo.")
        for suffix, lines in (("up", up), ("down", down)):
            files[directory / f"{stem}.{suffix}.sql"] = "\n".join(lines) + "\n"
    return files


def _flyway(m: Migration, directory: Path, start: datetime,
            number: Callable[[int], str] | None = None) -> dict[Path, str]:
    """pgtune's own up scripts (they run statement by statement, as Flyway does), outside Flyway's transaction;
    ``number``: each phase's version in a folder numbered by sequence, else the stamp and the phase's number."""
    files: dict[Path, str] = {}
    stamp = start.strftime("%Y%m%d%H%M%S")
    steps(m)                    # refuses phases the layouts cannot carry
    for i, phase in enumerate(m.phases):
        version = number(i) if number else f"{stamp}_{phase.number:02d}"
        path = directory / f"V{version}__pgtune_{_slug(phase.name)}.sql"
        text = up_script(m, phase, down_file=False) + (
            "-- Flyway keeps the connection: the session settings go back.\n"
            "RESET lock_timeout;\nRESET statement_timeout;\nRESET standard_conforming_strings;\n")
        files[path] = text
        # Concurrent builds cannot run in Flyway's transaction; the constraint phases bring their own BEGIN/COMMIT.
        files[path.with_name(path.name + ".conf")] = "executeInTransaction=false\n"
    return files
