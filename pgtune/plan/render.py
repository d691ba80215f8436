"""Rendering a phase as the SQL a DBA reviews: up and down scripts that also run under plain psql.

Everything derived from the database reaches a script through a quoting
routine: DDL printed by pglast, comment lines through ddl.comment.
"""

from __future__ import annotations

from .. import ddl
from ..duration import check_timeout
from .model import Migration, Phase, PhaseStep


def _timeout(value: str) -> str:
    """A duration as a SET value: check_timeout admits only digits and a unit, so quoting it is safe."""
    return "'" + check_timeout(value) + "'"


def _settings(m: Migration, *, statement_limit: bool) -> list[str]:
    """The session settings every script starts with.

    standard_conforming_strings is forced on because pgtune printed every
    literal for that reading; lock_timeout keeps a blocked DDL from queueing
    application traffic behind it.
    """
    return [
        "SET standard_conforming_strings = on;",
        f"SET lock_timeout = {_timeout(m.lock_timeout)};",
        f"SET statement_timeout = {_timeout(m.statement_timeout) if statement_limit else '0'};",
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


def up_script(m: Migration, phase: Phase, *, down_file: bool = True) -> str:
    """The phase's up script; ``down_file=False`` when no down script is written beside it (a tool's folder)."""
    if phase.step == PhaseStep.REBUILD:
        return _rebuild_up(m, phase)
    if phase.step == PhaseStep.VALIDATE_EXISTING:
        return _validate_existing_up(m, phase)
    if phase.step == PhaseStep.DROP_INDEXES:
        return _drop_up(m, phase, down_file=down_file)
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
        _c("run the matching DROP INDEX CONCURRENTLY from " + phase.down_file + " and re-run this file."
           if down_file else "run the DROP INDEX CONCURRENTLY under its \"To undo\" and re-run this file."),
        "-- Index builds take as long as they take: no statement limit.",
        *_settings(m, statement_limit=False),
        "",
    ]
    tables: list[tuple[str, str, str]] = []
    for ix in phase.indexes:
        lines.append(_c(ix.reason))
        if not down_file:
            lines.append(_c(f"To undo: {ix.rollback};"))
        lines.append(ix.ddl + ";")
        lines.append("")
        if (ix.schema, ix.table) not in [(s, t) for s, t, _ in tables]:
            tables.append((ix.schema, ix.table, ix.analyze))
    lines.append("-- Fresh statistics so the planner costs the new indexes right away.")
    lines.append(f"SET statement_timeout = {_timeout(m.statement_timeout)};")
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
                  f"SET statement_timeout = {_timeout(m.statement_timeout)};"]
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


def _rebuild_up(m: Migration, phase: Phase) -> str:
    lines = [*_header(m, phase, phase.up_file, phase.name),
             "-- REINDEX and CREATE INDEX CONCURRENTLY do not block writes; run outside a transaction block.",
             "-- If a REINDEX is interrupted it leaves an INVALID <name>_ccnew index: `pgtune apply` drops it.",
             "-- Index builds take as long as they take: no statement limit.",
             *_settings(m, statement_limit=False)]
    for ix in phase.existing:
        lines += ["", _c(ix.reason), _c("Definition at emit: " + ix.definition)]
        lines += [st + ";" for st in ix.statements]
    return "\n".join(lines) + "\n"


def _validate_existing_up(m: Migration, phase: Phase) -> str:
    lines = [*_header(m, phase, phase.up_file, phase.name),
             "-- VALIDATE reads the whole table but blocks no writes: no statement limit.",
             *_settings(m, statement_limit=False)]
    for c in phase.existing_constraints:
        lines += ["", _c(c.reason), "BEGIN;", c.validate + ";", "COMMIT;"]
    return "\n".join(lines) + "\n"


def _drop_up(m: Migration, phase: Phase, *, down_file: bool = True) -> str:
    undo = (f"{phase.down_file} builds each index again exactly as it is now (pg_get_indexdef)." if down_file
            else "To undo, run the statements under each index's \"To undo\" (it is built again exactly as now).")
    lines = [*_header(m, phase, phase.up_file, phase.name),
             "-- DROP INDEX CONCURRENTLY waits for running transactions, never blocks writes: no statement limit.",
             _c(undo), *_settings(m, statement_limit=False)]
    for ix in phase.existing:
        lines += ["", _c(ix.reason), _c("Definition at emit: " + ix.definition)]
        if not down_file:
            lines += [_c("To undo: " + st + ";") for st in ix.restore]
        lines += [st + ";" for st in ix.statements]
    return "\n".join(lines) + "\n"


def _existing_down(m: Migration, phase: Phase) -> str:
    lines = [
        _c(f"pgtune migration {m.id}, phase {phase.number} rollback: undoes {phase.up_file}."),
        _c("Run outside a transaction block: psql -v ON_ERROR_STOP=1 -f " + phase.down_file),
    ]
    if phase.step != PhaseStep.DROP_INDEXES:
        what = ("a rebuilt index has the definition it had before" if phase.step == PhaseStep.REBUILD
                else "a validated constraint is the same constraint, now checked for every row")
        return "\n".join([*lines, *_settings(m, statement_limit=True), f"-- Nothing to undo: {what}."]) + "\n"
    lines += ["-- Each index is built again CONCURRENTLY, as it was at emit: no statement limit.",
              *_settings(m, statement_limit=False)]
    for ix in reversed(phase.existing):
        lines += ["", *(st + ";" for st in ix.restore)]
    return "\n".join(lines) + "\n"


def down_script(m: Migration, phase: Phase) -> str:
    if phase.step in (PhaseStep.REBUILD, PhaseStep.VALIDATE_EXISTING, PhaseStep.DROP_INDEXES):
        return _existing_down(m, phase)
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
