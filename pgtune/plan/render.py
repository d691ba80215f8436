"""Rendering a phase as the SQL a DBA reviews, and as the typed steps apply runs.

One pass yields both: a script is a list of lines and steps (plan.recipe.Item),
printed as the up or down script; its steps alone are what the manifest
records and what apply, rollback and status read. The scripts also run under
plain psql. Everything derived from the database reaches a script through a
quoting routine: DDL printed by pglast, comment lines through ddl.comment.
"""

from __future__ import annotations

from .. import ddl
from ..duration import check_timeout
from .model import IndexFix, Migration, Phase, PhaseStep, PlannedIndex, PlannedSetting, SettingScope
from .recipe import Item, build, c, drop_existing, rebuild_existing, remove, restore_existing, squawk_ignore, uncomplete
from .steps import Action, Direction, ObjectKind, Step, setting


def _timeout(value: str) -> str:
    """A duration as a SET value: check_timeout admits only digits and a unit, so quoting it is safe."""
    return "'" + check_timeout(value) + "'"


def _settings(m: Migration, *, statement_limit: bool) -> list[Item]:
    """The session settings every script starts with.

    standard_conforming_strings is forced on because pgtune printed every
    literal for that reading; lock_timeout keeps a blocked DDL from queueing
    application traffic behind it.
    """
    return [setting("standard_conforming_strings", "on"), setting("lock_timeout", _timeout(m.lock_timeout)),
            setting("statement_timeout", _timeout(m.statement_timeout) if statement_limit else "0")]


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


_c = c


def print_items(items: list[Item]) -> str:
    lines: list[str] = []
    for item in items:
        lines.extend(item.lines() if isinstance(item, Step) else [item])
    return "\n".join(lines) + "\n"


def steps_of(items: list[Item]) -> list[Step]:
    return [i for i in items if isinstance(i, Step)]


def up_script(m: Migration, phase: Phase, *, down_file: bool = True) -> str:
    """The phase's up script; ``down_file=False`` when no down script is written beside it (a tool's folder)."""
    return print_items(up_items(m, phase, down_file=down_file))


def down_script(m: Migration, phase: Phase) -> str:
    return print_items(down_items(m, phase))


def up_steps(m: Migration, phase: Phase) -> list[Step]:
    return steps_of(up_items(m, phase))


def down_steps(m: Migration, phase: Phase) -> list[Step]:
    return steps_of(down_items(m, phase))


def up_items(m: Migration, phase: Phase, *, down_file: bool = True) -> list[Item]:
    if phase.step == PhaseStep.REBUILD:
        return _rebuild_up(m, phase, down_file=down_file)
    if phase.step == PhaseStep.VALIDATE_EXISTING:
        return _validate_existing_up(m, phase)
    if phase.step == PhaseStep.DROP_INDEXES:
        return _drop_up(m, phase, down_file=down_file)
    if phase.step == PhaseStep.ADD_NOT_VALID:
        return _add_constraints_up(m, phase)
    if phase.step == PhaseStep.VALIDATE:
        return _validate_up(m, phase)
    if phase.step == PhaseStep.SETTINGS:
        return _settings_items(m, phase, Direction.UP)
    if phase.step == PhaseStep.EXTENSIONS:
        return _extensions_items(m, phase, Direction.UP)
    if phase.step == PhaseStep.STATISTICS:
        return _statistics_items(m, phase, Direction.UP)
    return _indexes_up(m, phase, down_file=down_file)


def _indexes_up(m: Migration, phase: Phase, *, down_file: bool) -> list[Item]:
    out: list[Item] = [
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
    tables: dict[tuple[str, str], str] = {}
    for ix in phase.indexes:
        out += [*_serial(ix, build(ix, undo_comment=not down_file)), ""]
        tables.setdefault((ix.schema, ix.table), ix.analyze)
    out.append("-- Fresh statistics so the planner costs the new indexes right away.")
    out.append(setting("statement_timeout", _timeout(m.statement_timeout)))
    out += [Step(ObjectKind.TABLE, Action.ANALYZE, schema, table, (stmt,)) for (schema, table), stmt in tables.items()]
    return out


def _serial(ix: PlannedIndex, items: list[Item]) -> list[Item]:
    """A GIN's build with parallel workers off: PostgreSQL 18 builds a GIN in parallel up to 1.63x larger than
    serially (1M unique jsonb keys: 54.4 MB vs 33.4 MB, CONCURRENTLY too), and the forecast, from a sample built
    serially, is the serial size. Earlier servers build a GIN serially anyway; the setting goes back after it."""
    if ddl.index_signature(ix.ddl)[1] != "gin":
        return items
    first = next(i for i, item in enumerate(items) if isinstance(item, Step))
    return [*items[:first], _c("Built serially, as forecast: PostgreSQL 18 builds a GIN with parallel workers up to "
                               "1.6x larger."), setting("max_parallel_maintenance_workers", "0"), *items[first:],
            setting("max_parallel_maintenance_workers", "DEFAULT")]


def gin_note(ix: PlannedIndex) -> str | None:
    """A GIN's build in a file that must hold it alone (Prisma Migrate, golang-migrate: one query), where
    _serial's SET cannot go: said, with how to get the serial build anyway (c30)."""
    if ddl.index_signature(ix.ddl)[1] != "gin":
        return None
    return ("A GIN: PostgreSQL 18 builds it with parallel workers up to 1.6x larger than forecast (a serial "
            "build), and this file cannot SET max_parallel_maintenance_workers = 0 beside a concurrent build. "
            "To build it as forecast, run ALTER ROLE <the migration role> SET max_parallel_maintenance_workers "
            "= 0 before the deploy and ALTER ROLE <the migration role> RESET max_parallel_maintenance_workers "
            "after it.")


def _header(m: Migration, phase: Phase, file: str, what: str) -> list[Item]:
    return [
        _c(f"pgtune migration {m.id}, phase {phase.number} of {len(m.phases)}: {what}"),
        _c(f"Why this phase: {phase.reason}."),
        _c("Run with pgtune apply (it skips what already exists), or: psql -v ON_ERROR_STOP=1 -f " + file),
    ]


def _add_constraints_up(m: Migration, phase: Phase) -> list[Item]:
    out = _header(m, phase, phase.up_file, phase.name) + _settings(m, statement_limit=True)
    for k in phase.constraints:
        out += ["", _c(f"{k.kind} on {', '.join(k.columns)}: holds for every current row (checked at emit)."),
                Step(ObjectKind.CONSTRAINT, Action.CREATE, k.schema, k.name, (k.add,), block=True, table=k.table,
                     helper_for=k.columns[0] if k.set_not_null else "", undo=(k.drop,))]
    return out


def _validate_up(m: Migration, phase: Phase) -> list[Item]:
    out = _header(m, phase, phase.up_file, phase.name)
    out.append("-- VALIDATE reads the whole table but blocks no writes: no statement limit.")
    out += _settings(m, statement_limit=False)
    for k in phase.constraints:
        out += ["", Step(ObjectKind.CONSTRAINT, Action.VALIDATE, k.schema, k.name, (k.validate,), block=True,
                         table=k.table, helper_for=k.columns[0] if k.set_not_null else "")]
    not_null = [k for k in phase.constraints if k.set_not_null]
    if not_null:
        out += ["", "-- SET NOT NULL takes ACCESS EXCLUSIVE, but the validated check proves the column has",
                "-- no NULL, so the server skips the scan: the lock lasts an instant.",
                setting("statement_timeout", _timeout(m.statement_timeout))]
        for k in not_null:
            assert k.set_not_null is not None
            helper = _squawk_ignore(k.drop, "ban-drop-constraint", "The helper check is redundant once the "
                                    "column is NOT NULL: dropping it is the plan.")
            out.append(Step(ObjectKind.NOT_NULL, Action.CREATE, k.schema, k.columns[0], (k.set_not_null, helper),
                            block=True, table=k.table, undo=(k.drop_not_null,) if k.drop_not_null else ()))
    return out


def _constraints_down(m: Migration, phase: Phase) -> list[Item]:
    out: list[Item] = [
        _c(f"pgtune migration {m.id}, phase {phase.number} rollback: undoes {phase.up_file}."),
        _c("Run with pgtune rollback, or: psql -v ON_ERROR_STOP=1 -f " + phase.down_file),
        *_settings(m, statement_limit=True),
    ]
    header = len(out)
    for k in reversed(phase.constraints):
        if phase.step == PhaseStep.VALIDATE:
            if k.drop_not_null:
                undo = _squawk_ignore(k.drop_not_null, "ban-drop-not-null", "Rollback restores the column as it "
                                      "was before this migration.")
                out.append(Step(ObjectKind.NOT_NULL, Action.DROP, k.schema, k.columns[0], (undo,), block=True,
                                table=k.table))
        else:
            undo = _squawk_ignore(k.drop, "ban-drop-constraint", "Rollback removes the constraint this migration "
                                  "added.")
            out.append(Step(ObjectKind.CONSTRAINT, Action.DROP, k.schema, k.name, (undo,), block=True, table=k.table,
                            helper_for=k.columns[0] if k.set_not_null else ""))
    if len(out) == header:
        out.append("-- Nothing to undo: a validated constraint is removed by the previous phase's rollback.")
    return out


def _rebuild_up(m: Migration, phase: Phase, *, down_file: bool) -> list[Item]:
    out = [*_header(m, phase, phase.up_file, phase.name),
           "-- REINDEX and CREATE INDEX CONCURRENTLY do not block writes; run outside a transaction block.",
           "-- If a REINDEX is interrupted it leaves an INVALID <name>_ccnew index: `pgtune apply` drops it.",
           "-- Index builds take as long as they take: no statement limit.",
           *_settings(m, statement_limit=False)]
    for e in phase.existing:
        out += ["", *rebuild_existing(e, undo_comment=not down_file)]
    return out


def _validate_existing_up(m: Migration, phase: Phase) -> list[Item]:
    out = [*_header(m, phase, phase.up_file, phase.name),
           "-- VALIDATE reads the whole table but blocks no writes: no statement limit.",
           *_settings(m, statement_limit=False)]
    for k in phase.existing_constraints:
        out += ["", _c(k.reason), Step(ObjectKind.CONSTRAINT, Action.VALIDATE, k.schema, k.name, (k.validate,),
                                       block=True, table=k.table)]
    return out


def _drop_up(m: Migration, phase: Phase, *, down_file: bool = True) -> list[Item]:
    undo = (f"{phase.down_file} builds each index again exactly as it is now (pg_get_indexdef)." if down_file
            else "To undo, run the statements under each index's \"To undo\" (it is built again exactly as now).")
    out = [*_header(m, phase, phase.up_file, phase.name),
           "-- DROP INDEX CONCURRENTLY waits for running transactions, never blocks writes: no statement limit.",
           _c(undo), *_settings(m, statement_limit=False)]
    for e in phase.existing:
        out += ["", *drop_existing(e, undo_comment=not down_file)]
    return out


def _existing_down(m: Migration, phase: Phase) -> list[Item]:
    out: list[Item] = [
        _c(f"pgtune migration {m.id}, phase {phase.number} rollback: undoes {phase.up_file}."),
        _c("Run outside a transaction block: psql -v ON_ERROR_STOP=1 -f " + phase.down_file),
    ]
    completed = [e for e in phase.existing if e.fix == IndexFix.COMPLETE]
    if phase.step != PhaseStep.DROP_INDEXES:
        what = ("a rebuilt index has the definition it had before" if phase.step == PhaseStep.REBUILD
                else "a validated constraint is the same constraint, now checked for every row")
        if not completed:
            return [*out, *_settings(m, statement_limit=True), f"-- Nothing to undo: {what}."]
        if len(completed) < len(phase.existing) or phase.existing_constraints:
            out.append(f"-- Nothing to undo for the rest: {what}.")
        out += ["-- Each index is built again CONCURRENTLY, as it was at emit: no statement limit.",
                *_settings(m, statement_limit=False)]
        for e in reversed(completed):
            out += ["", *uncomplete(e)]
        return out
    out += ["-- Each index is built again CONCURRENTLY, as it was at emit: no statement limit.",
            *_settings(m, statement_limit=False)]
    for e in reversed(phase.existing):
        out += ["", *restore_existing(e)]
    return out


def _setting_step(s: PlannedSetting, stmt: str, undo: str | None) -> Step:
    """One ALTER ROLE / TABLE / SYSTEM statement as a step that names what it sets."""
    undo_sql = (undo,) if undo else ()
    if s.scope == SettingScope.ROLE:
        return Step(ObjectKind.ROLE_SETTING, Action.SET, s.database or "", s.name, (stmt,), table=s.role or "",
                    undo=undo_sql)
    if s.scope == SettingScope.TABLE:
        return Step(ObjectKind.TABLE_SETTING, Action.SET, s.schema or "", s.name, (stmt,), table=s.table or "",
                    undo=undo_sql)
    return Step(ObjectKind.SERVER_SETTING, Action.SET, "", s.name, (stmt,), undo=undo_sql)


def _settings_items(m: Migration, phase: Phase, direction: Direction) -> list[Item]:
    """ALTER ROLE/TABLE/SYSTEM statements, each in autocommit (ALTER SYSTEM refuses a transaction block).

    A server phase ends with pg_reload_conf(): reload-level settings take
    effect, restart-level ones show pending_restart. pgtune never restarts.
    """
    up = direction == Direction.UP
    file = phase.file(direction)
    server = any(s.scope in (SettingScope.RELOAD, SettingScope.RESTART) for s in phase.settings)
    restart = [s.name for s in phase.settings if s.scope == SettingScope.RESTART]
    what = phase.name if up else f"restores what {phase.up_file} changed, as it was at emit"
    out: list[Item] = [*_header(m, phase, file, what)[:2],
                       _c("Run outside a transaction block (ALTER SYSTEM refuses one): psql -v ON_ERROR_STOP=1 -f "
                          + file),
                       *_settings(m, statement_limit=True)]
    if restart and up:
        out.append(_c("In force after the next server restart (pgtune never restarts): " + ", ".join(restart)))
    for s in (phase.settings if up else list(reversed(phase.settings))):
        before = s.before if s.before is not None else "not set: RESET"
        out += ["", _c(f"{s.name}: {s.value} (was {before}; in force at emit {s.in_force}, source {s.source})"),
                *([_c(s.reason)] if s.reason and up else []),
                _setting_step(s, s.up, s.down) if up else _setting_step(s, s.down, None)]
    if server:
        out += ["", Step(ObjectKind.SERVER_SETTING, Action.RELOAD, "", "", ("SELECT pg_catalog.pg_reload_conf()",))]
    return out


def _extensions_items(m: Migration, phase: Phase, direction: Direction) -> list[Item]:
    """CREATE EXTENSION IF NOT EXISTS each; the down script's DROP EXTENSION (RESTRICT) runs under pgtune
    rollback only for an extension this migration created and nothing else uses."""
    file = phase.file(direction)
    what = phase.name if direction == Direction.UP else f"drops what {phase.up_file} created, if nothing else uses it"
    out: list[Item] = [*_header(m, phase, file, what), *_settings(m, statement_limit=True)]
    for e in (phase.extensions if direction == Direction.UP else list(reversed(phase.extensions))):
        if direction == Direction.UP:
            note = "installed at emit: this changes nothing" if e.installed else "needs the right to create it"
            out += ["", _c(f"{e.name} ({note}) for {', '.join(e.needed_by)}. {e.reason}".rstrip(". ") + "."),
                    Step(ObjectKind.EXTENSION, Action.CREATE, e.schema or "", e.name, (e.create,), undo=(e.drop,))]
        else:
            out += ["", _c(f"pgtune rollback drops {e.name} only if this migration created it and nothing else "
                           "uses it; by hand, check first: \\dx+ " + e.name),
                    *squawk_ignore("ban-drop-extension", "Rollback removes the extension this migration created."),
                    Step(ObjectKind.EXTENSION, Action.DROP, e.schema or "", e.name, (e.drop,))]
    return out


def _statistics_items(m: Migration, phase: Phase, direction: Direction) -> list[Item]:
    """CREATE STATISTICS (a brief SHARE UPDATE EXCLUSIVE lock, no scan) then ANALYZE of each table; down: DROP."""
    file = phase.file(direction)
    what = phase.name if direction == Direction.UP else f"drops the statistics {phase.up_file} created"
    out: list[Item] = [*_header(m, phase, file, what), *_settings(m, statement_limit=True)]
    if direction == Direction.DOWN:
        for st in reversed(phase.statistics):
            out += ["", Step(ObjectKind.STATISTICS, Action.DROP, st.schema, st.name, (st.drop,), table=st.table)]
        return out
    tables: dict[tuple[str, str], str] = {}
    for st in phase.statistics:
        out += ["", _c(st.reason),
                Step(ObjectKind.STATISTICS, Action.CREATE, st.schema, st.name, (st.create,), table=st.table,
                     undo=(st.drop,))]
        tables.setdefault((st.schema, st.table), st.analyze)
    out += ["", "-- ANALYZE fills the new statistics: until it runs the planner estimates as before."]
    out += [Step(ObjectKind.TABLE, Action.ANALYZE, schema, table, (stmt,)) for (schema, table), stmt in tables.items()]
    return out


def down_items(m: Migration, phase: Phase) -> list[Item]:
    if phase.step == PhaseStep.SETTINGS:
        return _settings_items(m, phase, Direction.DOWN)
    if phase.step == PhaseStep.EXTENSIONS:
        return _extensions_items(m, phase, Direction.DOWN)
    if phase.step == PhaseStep.STATISTICS:
        return _statistics_items(m, phase, Direction.DOWN)
    if phase.step in (PhaseStep.REBUILD, PhaseStep.VALIDATE_EXISTING, PhaseStep.DROP_INDEXES):
        return _existing_down(m, phase)
    if phase.step != PhaseStep.INDEXES:
        return _constraints_down(m, phase)
    out: list[Item] = [
        _c(f"pgtune migration {m.id}, phase {phase.number} rollback: drops what {phase.up_file} created."),
        _c("Run outside a transaction block: psql -v ON_ERROR_STOP=1 -f " + phase.down_file),
        "-- DROP INDEX CONCURRENTLY waits for running transactions, never blocks writes: no statement limit.",
        *_settings(m, statement_limit=False),
        "",
    ]
    for ix in reversed(phase.indexes):
        out += remove(ix)
    return out

