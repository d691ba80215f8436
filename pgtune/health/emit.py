"""A health report as a migration: the fixes a migration can carry, in phases, each with its undo.

Order, safest first: build the indexes foreign keys lack (so a later drop
never leaves a key without one), rebuild INVALID and bloated indexes,
VALIDATE constraints left NOT VALID, and last drop the duplicate,
overlapping and unused indexes and those that stop HOT updates, each with a down script that builds it again
exactly. Maintenance (ANALYZE, VACUUM) and changes that rewrite a table are
not migrations: they stay in the report's fix lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import psycopg

from .. import ddl
from ..analyze import AnalyzedStatement
from ..connect import lost
from ..errors import PgtuneError
from ..plan import (
    ExistingConstraint,
    ExistingIndex,
    IndexFix,
    Layout,
    Migration,
    PartitionIndex,
    PartitionMap,
    Phase,
    PhaseStep,
    PlannedIndex,
    Target,
    child_name,
    partitions,
)
from . import not_valid_rows
from .checks import catalog_rows
from .duplicate_keys import left_out as duplicates_left_out
from .larger_index import rebuilt_when_larger
from .model import CheckId, Finding, HealthReport
from .provenance import TOOLS, tool_of
from .workload_plans import StatementKey, UsedBy, statements_using, valued

TOOLS_LAYOUT = {tool: layout.value for tool, layout in TOOLS.values()}

# unused first: see _drops
DROPS = (CheckId.UNUSED_INDEX, CheckId.DUPLICATE_INDEX, CheckId.OVERLAPPING_INDEX, CheckId.HOT_BLOCKING_INDEX)
REBUILDS = (CheckId.INVALID_INDEX, CheckId.BLOATED_INDEX, CheckId.INDEX_LARGER_THAN_TABLE)
CARRIED = (*DROPS, *REBUILDS, CheckId.FOREIGN_KEY_WITHOUT_INDEX, CheckId.NOT_VALID_CONSTRAINT)
OUTSIDE = ("not a schema change: run its fix by hand", "no automatic fix", "none needed now")


@dataclass
class HealthMigration:
    migration: Migration
    left_out: list[str] = field(default_factory=list)   # findings the migration does not fix, and why
    carried: list[Finding] = field(default_factory=list)  # the findings whose fix it runs, in its order


def fix_list(conn: psycopg.Connection[Any], report: HealthReport) -> HealthMigration:
    """What ``health`` without --emit prints as its fix list: the migration's choices (p25: each finding's own
    fix, run in a row, dropped an index and the one kept in its place, re-ran a unique build its duplicates fail,
    and VALIDATEd constraints whose rows break them), then the maintenance a migration does not carry."""
    built = build(conn, report, guards=False)
    built.carried += [f for f in report.findings if f.fix and f.check not in CARRIED]
    built.left_out = [line for line in built.left_out if not any(why in line for why in OUTSIDE)]
    return built


def _rebuilds(conn: psycopg.Connection[Any], by_check: dict[str, list[Finding]], dropped: set[tuple[str, str]],
              restore: dict[tuple[str, str], dict[str, Any]], parts: PartitionMap,
              left_out: list[str]) -> dict[tuple[str, str], ExistingIndex]:
    """Each INVALID or bloated index once, unless it is dropped anyway (an index gone since is left out)."""
    rebuilds: dict[tuple[str, str], ExistingIndex] = {}
    for check in REBUILDS:
        for f in by_check.get(check, []):
            key = (f.schema, f.index or "")
            if key in dropped or key in rebuilds:
                continue      # dropped anyway, or already rebuilt for another finding
            r = restore.get(key)
            if r is not None and check == CheckId.INDEX_LARGER_THAN_TABLE and not r["is_exclusion"] \
                    and not rebuilt_when_larger(r["method"]):
                left_out.append(f"{check} on {f.index}: a {r['method']} index larger than its table is no sign of "
                                "bloat by itself: not rebuilt")
                continue
            if r is not None and check == CheckId.INVALID_INDEX and not r["partitioned"] and (
                    why := duplicates_left_out(conn, f.schema, f.table or "", r["oid"], unique=r["is_unique"],
                                               known=f.keys)):
                offer = f.evidence.get("or_drop")     # the DBA's choice, and no rollback could build it again
                left_out.append(f"{check} on {f.index}: {why}" + (f"; or, if the application does not need its key "
                                                                   f"unique, drop it: {offer}" if offer else ""))
                continue
            if r is None or r["is_exclusion"]:     # p20: PostgreSQL refuses REINDEX CONCURRENTLY on those
                left_out.append(f"{check} on {f.index}: " + ("the index is gone" if r is None else
                                "an exclusion constraint's index, which PostgreSQL cannot rebuild CONCURRENTLY: "
                                "a plain REINDEX INDEX, by hand, blocks the table's writes while it runs"))
                continue
            rebuilds[key] = _rebuild(conn, f, r, parts, restore)
    return rebuilds


def build(conn: psycopg.Connection[Any], report: HealthReport, *, lock_timeout: str = "5s",
          statement_timeout: str = "1min", now: datetime | None = None,
          layout: Layout = Layout.PGTUNE, guards: bool = True) -> HealthMigration:
    """The migration that fixes what ``report`` found, where a migration can.

    ``layout``: the files it is written as; an index the application's
    migration tool made is dropped only in that tool's own layout. ``guards``:
    plan the statements that use an index to drop (for verify).
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    left_out: list[str] = []
    restore = {(r["schema"], r["index"]): r for r in catalog_rows(conn, "health_indexes")}
    by_check: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_check.setdefault(f.check, []).append(f)

    parts = partitions.read(conn, [(f.schema, f.table) for f in report.findings if f.table])
    fk = [_fk_index(f, parts) for f in by_check.get(CheckId.FOREIGN_KEY_WITHOUT_INDEX, []) if f.fix]
    left_out += [f"{f.check} on {f.table}: no index built, none needed now ({f.evidence['constraint']})"
                 for f in by_check.get(CheckId.FOREIGN_KEY_WITHOUT_INDEX, []) if not f.fix]
    drops = _drops(conn, by_check, restore, parts, left_out, tool_of(layout))
    rebuilds = _rebuilds(conn, by_check, {(e.schema, e.name) for e in drops}, restore, parts, left_out)
    validations = [ExistingConstraint(f.schema, f.table or "", f.evidence["constraint"], f.fix[0], f.message)
                   for f in by_check.get(CheckId.NOT_VALID_CONSTRAINT, [])]
    # A VALIDATE the rows from before the constraint would fail (a NOT NULL's NULLs) is left to the DBA.
    broken = {(v.schema, v.table, v.name): why for v in validations
              if (why := not_valid_rows.left_out(conn, v.schema, v.table, v.name)) is not None}
    left_out += [f"{CheckId.NOT_VALID_CONSTRAINT} on {t}: {n} stays NOT VALID, {why}"
                 for (_, t, n), why in broken.items()]
    validations = [v for v in validations if (v.schema, v.table, v.name) not in broken]
    for f in report.findings:
        if f.check not in CARRIED:
            left_out.append(f"{f.check} on {f.table or f.schema}: "
                            + ("not a schema change: run its fix by hand" if f.fix else "no automatic fix"))

    phases: list[Phase] = []

    def add(name: str, reason: str, step: PhaseStep, **objects: Any) -> None:
        phases.append(Phase(len(phases) + 1, name, reason, step=step, **objects))

    if fk:
        add("indexes for foreign keys", "deletes and key updates on the parent stop scanning the child; "
            "built first, so no later drop leaves a key without an index", PhaseStep.INDEXES, indexes=fk)
    if rebuilds:
        add("rebuild INVALID and bloated indexes", "a rebuild CONCURRENTLY blocks no writes and gives back the "
            "space; an INVALID index is dropped and built again under its own definition",
            PhaseStep.REBUILD, existing=list(rebuilds.values()))
    if validations:
        add("validate constraints left NOT VALID", "VALIDATE scans under SHARE UPDATE EXCLUSIVE, so reads and "
            "writes go on; afterwards the planner may rely on the constraint", PhaseStep.VALIDATE_EXISTING,
            existing_constraints=validations)
    targets: list[Target] = []
    if drops:
        add("drop redundant and unused indexes", "each costs writes and space for nothing; dropped last, "
            "CONCURRENTLY, and the rollback builds each again exactly", PhaseStep.DROP_INDEXES, existing=drops)
        targets = _guards(conn, {(e.schema, e.name) for e in drops}, left_out) if guards else []
    m = Migration(id=f"{stamp}_health", created=stamp, server_version=str(conn.info.server_version),
                  phases=phases, targets=targets, lock_timeout=lock_timeout, statement_timeout=statement_timeout)
    return HealthMigration(m, left_out, _carried(by_check, fk, rebuilds, validations, drops))


def _carried(by_check: dict[str, list[Finding]], fk: list[PlannedIndex], rebuilds: dict[tuple[str, str], Any],
             validations: list[ExistingConstraint], drops: list[ExistingIndex]) -> list[Finding]:
    """The findings whose fix the migration runs, in phase order, one per object (the one that chose it)."""
    built = {(i.schema, i.name) for i in fk}
    checked = {(v.schema, v.table, v.name) for v in validations}
    dropped = {(e.schema, e.name) for e in drops}
    out = [f for f in by_check.get(CheckId.FOREIGN_KEY_WITHOUT_INDEX, [])
           if f.fix and (f.schema, str(f.evidence.get("index"))) in built]
    out += _first(by_check, REBUILDS, set(rebuilds))
    out += [f for f in by_check.get(CheckId.NOT_VALID_CONSTRAINT, [])
            if (f.schema, f.table or "", f.evidence.get("constraint")) in checked]
    return out + _first(by_check, DROPS, dropped)


def _first(by_check: dict[str, list[Finding]], checks: tuple[CheckId, ...],
           keys: set[tuple[str, str]]) -> list[Finding]:
    """Per index in ``keys``, the first finding of ``checks`` (in their order) on it: the one the phase acts on."""
    out = []
    for check in checks:
        for f in by_check.get(check, []):
            if (key := (f.schema, f.index or "")) in keys:
                keys.discard(key)
                out.append(f)
    return out


def _fk_index(f: Finding, parts: PartitionMap) -> PlannedIndex:
    """The index a foreign key lacks: the finding names it (``evidence["index"]``) and its definition is the fix."""
    table, name = f.table or "", str(f.evidence["index"])
    partitioned = parts.partitioned(f.schema, table)
    return PlannedIndex(f.schema, table, name, f.fix[0], ddl.drop_index(f.schema, name, concurrently=not partitioned),
                        ddl.analyze(f.schema, table), f.message, partitioned=partitioned,
                        partitions=parts.indexes_for(f.schema, table, name))


def _rebuild(conn: psycopg.Connection[Any], f: Finding, r: dict[str, Any], parts: PartitionMap,
             rows: dict[tuple[str, str], dict[str, Any]]) -> ExistingIndex:
    """REINDEX CONCURRENTLY; an INVALID index dropped and built again; a partitioned one completed."""
    schema, table, index = f.schema, f.table or "", f.index or ""
    partitioned = parts.partitioned(schema, table)
    if f.check != CheckId.INVALID_INDEX:
        fix = IndexFix.REINDEX
        return ExistingIndex(schema, table, index, r["definition"], fix, reason=f.message, partitioned=partitioned)
    if not partitioned:
        return ExistingIndex(schema, table, index, r["definition"], IndexFix.RECREATE,
                             restore=[ddl.recreate_index(r["definition"], r["tablespace"])], reason=f.message)
    return ExistingIndex(schema, table, index, r["definition"], IndexFix.COMPLETE, reason=f.message,
                         restore=restore_statements(r, partitioned=True), partitioned=True,
                         partitions=_missing(conn, r, parts, rows), attached=_attached(conn, schema, index))


def _missing(conn: psycopg.Connection[Any], r: dict[str, Any], parts: PartitionMap,
             rows: dict[tuple[str, str], dict[str, Any]]) -> list[PartitionIndex]:
    """The indexes the partitions of a partitioned index's table lack, named and placed under their parents.

    A leaf partition that already has a valid index of the same definition,
    attached to nothing (a manual migration stopped before its attach), gets
    that one attached rather than a second one built.
    """
    schema, table, index = r["schema"], r["table"], r["index"]
    index_of = {(schema, table): (schema, index)}
    out: list[PartitionIndex] = []
    for a in partitions.attached(conn, [(schema, index)]).get((schema, index), []):
        if a.index is not None and a.index_schema is not None:
            index_of[(a.table_schema, a.table)] = (a.index_schema, a.index)
            continue
        parent = index_of.get((a.parent_table_schema, a.parent_table))
        if parent is None:
            continue        # under a sub-partitioned partition that is itself missing and built below
        twin = None if a.partitioned else _twin(rows, r["definition"], a.table_schema, a.table)
        name = twin["index"] if twin else parts.free_name(a.table_schema, child_name(table, index, a.table))
        index_of[(a.table_schema, a.table)] = (a.table_schema, name)
        out.append(PartitionIndex(a.table_schema, a.table, name, parent[0], parent[1], a.partitioned,
                                  twin["definition"] if twin else ""))
    return out


def _twin(rows: dict[tuple[str, str], dict[str, Any]], definition: str, schema: str,
          table: str) -> dict[str, Any] | None:
    """A valid index on partition ``schema.table``, attached to nothing, that builds what ``definition`` does."""
    wanted = ddl.index_on(definition, schema, table, "twin")
    return next((x for x in rows.values() if (x["schema"], x["table"]) == (schema, table) and x["is_valid"]
                 and not x.get("partitioned") and x.get("parent_index") is None
                 and ddl.same_index(wanted, x["definition"])), None)


def _drops(conn: psycopg.Connection[Any], by_check: dict[str, list[Finding]],
           restore: dict[tuple[str, str], dict[str, Any]], parts: PartitionMap,
           left_out: list[str], writing_for: str | None) -> list[ExistingIndex]:
    """The indexes to drop: never one whose stand-in (the index it duplicates or leads) goes too.

    Nor one the application's migration tool made, unless the migration is
    written for that tool (``writing_for``): dropped behind its back, the
    tool's own later DROP INDEX of it fails and stops the application's deploy.
    Nor, in a tool's layout, one whose stand-in a pgtune migration built: the
    tool runs the drop, pgtune's history never hears of it, and a rollback of
    that migration dropped the stand-in too (p18: Booking_userId_idx dropped
    through Prisma for pgtune's ("userId", …), then the rollback left the busy
    times' "userId" = $1 with no index: 17 -> 713 ms, and a foreign key unindexed).
    """
    chosen: dict[tuple[str, str], ExistingIndex] = {}
    for check in DROPS:
        for f in by_check.get(check, []):
            key = (f.schema, f.index or "")
            if key in chosen:
                continue
            tool = f.evidence.get("owned_by")
            if tool and tool != writing_for:
                left_out.append(f"{check} on {f.index}: the application's {tool} migrations' index; a drop "
                                f"outside them breaks their own later DROP INDEX of it: write the drop with "
                                f"--layout {TOOLS_LAYOUT[tool]}" + (" and --prisma-schema (remove its line in the "
                                "same change)" if tool == "Prisma Migrate" else ""))
                continue
            if not f.fix:     # hot-blocking: the reads need it; duplicate: which one the schema declares is unknown
                left_out.append(f"{check} on {f.index}: no automatic fix ({f.message.rpartition('; ')[2]})")
                continue
            keeper = f.evidence.get("duplicate_of") or f.evidence.get("covered_by")
            built = f.evidence.get("keeper_built_by")
            if writing_for and built:
                left_out.append(f"{check} on {f.index}: kept, because {keeper}, which would serve in its place, was "
                                f"built by pgtune migration {built}, whose rollback would not know {f.index} is "
                                f"gone: drop it with pgtune's own layout (the rollback then refuses), or once {built} "
                                "stays")
                continue
            if keeper and (f.schema, keeper) in chosen:
                left_out.append(f"{check} on {f.index}: kept, because {keeper}, which would serve in its "
                                "place, is dropped as well")
                continue
            r = restore.get(key)
            if r is None:
                left_out.append(f"{check} on {f.index}: the index is gone")
                continue
            partitioned = parts.partitioned(f.schema, f.table or "")
            chosen[key] = ExistingIndex(f.schema, f.table or "", f.index or "", r["definition"], IndexFix.DROP,
                                        restore=restore_statements(r, partitioned=partitioned), reason=f.message,
                                        bytes=int(r["index_bytes"]), partitioned=partitioned,
                                        partitions=_attached(conn, f.schema, f.index or "") if partitioned else [],
                                        served_by=str(keeper or ""))
    return list(chosen.values())


def _attached(conn: psycopg.Connection[Any], schema: str, index: str) -> list[PartitionIndex]:
    """A partitioned index's partitions' indexes as they are, to build and attach each again on rollback."""
    return [PartitionIndex(a.table_schema, a.table, a.index, a.parent_index_schema, a.parent_index, a.partitioned,
                           a.definition or "")
            for a in partitions.attached(conn, [(schema, index)]).get((schema, index), [])
            if a.index is not None and a.index_schema is not None and a.parent_index is not None
            and a.parent_index_schema is not None]


def restore_statements(r: dict[str, Any], *, partitioned: bool = False) -> list[str]:
    """What builds the index again exactly as it is: what pg_dump would print for it, made CONCURRENTLY.

    A partitioned index is made ON ONLY; its partitions' indexes follow in
    the down script (plan.recipe), each built CONCURRENTLY and attached.
    """
    schema, index = r["schema"], r["index"]
    out = [ddl.recreate_index(r["definition"], r["tablespace"], partitioned=partitioned)]
    for column, target in zip(r["stats_columns"], r["stats_targets"], strict=True):
        out.append(ddl.index_statistics(schema, index, column, target))
    if r["comment"] is not None:
        out.append(ddl.comment_on_index(schema, index, r["comment"]))
    if r["is_clustered"]:
        out.append(ddl.cluster_on(schema, r["table"], index))
    return out


def _guards(conn: psycopg.Connection[Any], dropped: set[tuple[str, str]], left_out: list[str]) -> list[Target]:
    """The workload statements whose plan uses an index to drop: verify checks they get no costlier, planned
    (and, with --measure, timed) with the value scenarios suggest would cost them over."""
    try:
        found = statements_using(conn, dropped)
    except (PgtuneError, psycopg.Error) as exc:
        if lost(conn):
            raise
        left_out.append(f"no statements to guard: {str(exc).splitlines()[0]}")
        return []
    rows: dict[StatementKey, AnalyzedStatement] = {}
    if found:
        try:
            rows = valued(conn)
        except (PgtuneError, psycopg.Error) as exc:
            if lost(conn):
                raise
            left_out.append(f"guards planned without values: {str(exc).splitlines()[0]}")
    return [_guard(u, rows.get((u.statement.queryid, u.statement.query, u.statement.userid))) for u in found]


def _guard(u: UsedBy, row: AnalyzedStatement | None) -> Target:
    """A guard for ``u``: with its record's value scenarios and session when suggest's valuing found any."""
    t = Target(queryid=u.statement.queryid, query=u.statement.query, calls=u.statement.calls, baseline_cost=u.cost,
               dropped_indexes=u.indexes, search_path=u.search_path)
    if row is None or not row.scenarios:
        return t
    return replace(t, values=dict(row.values), scenarios=list(row.scenarios), role=row.planned_as,
                   settings=dict(row.settings),
                   search_path=list(row.search_path) if row.role is not None else u.search_path)
