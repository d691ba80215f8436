"""A health report as a migration: the fixes a migration can carry, in phases, each with its undo.

Order, safest first: build the indexes foreign keys lack (so a later drop
never leaves a key without one), rebuild INVALID and bloated indexes,
VALIDATE constraints left NOT VALID, and last drop the duplicate,
overlapping and unused indexes, each with a down script that builds it again
exactly. Maintenance (ANALYZE, VACUUM) and changes that rewrite a table are
not migrations: they stay in the report's fix lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg

from .. import ddl
from ..capture import WorkloadFilter, read_workload
from ..errors import PgtuneError
from ..explain import explain
from ..plan import (
    ExistingConstraint,
    ExistingIndex,
    Migration,
    Phase,
    PhaseStep,
    PlannedIndex,
    Target,
)
from ..script import index_target
from .checks import catalog_rows
from .model import Finding, HealthReport

DROPS = ("unused-index", "duplicate-index", "overlapping-index")   # unused first: see _drops
REBUILDS = ("invalid-index", "bloated-index", "index-larger-than-table")
GUARDED_STATEMENTS = 200      # the costliest statements whose plans are read for a dropped index


@dataclass
class HealthMigration:
    migration: Migration
    left_out: list[str] = field(default_factory=list)   # findings the migration does not fix, and why


def build(conn: psycopg.Connection[Any], report: HealthReport, *, lock_timeout: str = "5s",
          statement_timeout: str = "1min", now: datetime | None = None) -> HealthMigration:
    """The migration that fixes what ``report`` found, where a migration can."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    left_out: list[str] = []
    restore = {(r["schema"], r["index"]): r for r in catalog_rows(conn, "health_indexes")}
    by_check: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_check.setdefault(f.check, []).append(f)

    fk = [_fk_index(f) for f in by_check.get("foreign-key-without-index", [])]
    drops = _drops(by_check, restore, left_out)
    dropped = {(e.schema, e.name) for e in drops}
    rebuilds: dict[tuple[str, str], ExistingIndex] = {}
    for check in REBUILDS:
        for f in by_check.get(check, []):
            key = (f.schema, f.index or "")
            if key in dropped or key in rebuilds:
                continue      # dropped anyway, or already rebuilt for another finding
            r = restore.get(key)
            if r is None:
                left_out.append(f"{check} on {f.index}: the index is gone")
                continue
            rebuilds[key] = ExistingIndex(f.schema, f.table or "", f.index or "", r["definition"],
                                          statements=list(f.fix), reason=f.message)
    validations = [ExistingConstraint(f.schema, f.table or "", f.evidence["constraint"], f.fix[0], f.message)
                   for f in by_check.get("not-valid-constraint", [])]
    for f in report.findings:
        if f.check not in (*DROPS, *REBUILDS, "foreign-key-without-index", "not-valid-constraint"):
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
        targets = _guards(conn, {e.name for e in drops}, left_out)
    m = Migration(id=f"{stamp}_health", created=stamp, server_version=str(conn.info.server_version),
                  phases=phases, targets=targets, lock_timeout=lock_timeout, statement_timeout=statement_timeout)
    return HealthMigration(m, left_out)


def _fk_index(f: Finding) -> PlannedIndex:
    target = index_target(f.fix[0])
    assert target is not None, "foreign-key-without-index fixes with one CREATE INDEX"
    return PlannedIndex(f.schema, f.table or "", target[1], f.fix[0], ddl.drop_index(f.schema, target[1]),
                        ddl.analyze(f.schema, f.table or ""), f.message)


def _drops(by_check: dict[str, list[Finding]], restore: dict[tuple[str, str], dict[str, Any]],
           left_out: list[str]) -> list[ExistingIndex]:
    """The indexes to drop: never one whose stand-in (the index it duplicates or leads) goes too."""
    chosen: dict[tuple[str, str], ExistingIndex] = {}
    for check in DROPS:
        for f in by_check.get(check, []):
            key = (f.schema, f.index or "")
            if key in chosen:
                continue
            keeper = f.evidence.get("duplicate_of") or f.evidence.get("covered_by")
            if keeper and (f.schema, keeper) in chosen:
                left_out.append(f"{check} on {f.index}: kept, because {keeper}, which would serve in its "
                                "place, is dropped as well")
                continue
            r = restore.get(key)
            if r is None:
                left_out.append(f"{check} on {f.index}: the index is gone")
                continue
            chosen[key] = ExistingIndex(f.schema, f.table or "", f.index or "", r["definition"],
                                        statements=list(f.fix), restore=restore_statements(r),
                                        reason=f.message, bytes=int(r["index_bytes"]))
    return list(chosen.values())


def restore_statements(r: dict[str, Any]) -> list[str]:
    """What builds the index again exactly as it is: what pg_dump would print for it, made CONCURRENTLY."""
    schema, index = r["schema"], r["index"]
    out = [ddl.recreate_index(r["definition"], r["tablespace"])]
    for column, target in zip(r["stats_columns"], r["stats_targets"], strict=True):
        out.append(ddl.index_statistics(schema, index, column, target))
    if r["comment"] is not None:
        out.append(ddl.comment_on_index(schema, index, r["comment"]))
    if r["is_clustered"]:
        out.append(ddl.cluster_on(schema, r["table"], index))
    return out


def _guards(conn: psycopg.Connection[Any], dropped: set[str], left_out: list[str]) -> list[Target]:
    """The workload statements whose plan uses an index to drop: verify checks they get no costlier."""
    try:
        workload = read_workload(conn, WorkloadFilter(top=GUARDED_STATEMENTS))
    except (PgtuneError, psycopg.Error) as exc:
        if conn.broken or conn.closed:
            raise
        left_out.append(f"no statements to guard: {str(exc).splitlines()[0]}")
        return []
    out = []
    for st in workload:
        try:
            plan = explain(conn, st.query)
        except (ValueError, psycopg.Error):
            if conn.broken or conn.closed:
                raise
            continue        # utility statements, or ones that no longer plan
        used = sorted(plan.indexes & dropped)
        if used:
            out.append(Target(queryid=st.queryid, query=st.query, calls=st.calls, baseline_cost=plan.cost,
                              dropped_indexes=used))
    return out
