"""The existing indexes a suggested one makes redundant, dropped in the last phase of the same migration (u2's R6).

suggest names them ("makes existing … redundant": the new index's keys
start with theirs, analyze.candidates.made_redundant). A DBA adding the new
index would drop the old one once the new one is built and valid; the drop
phase comes last, and apply refuses it while the index it relies on is not
there and valid (Step.relies_on). The guards are health's: a unique or
primary-key index is never named; an index a migration tool's ledger says
the application's migrations made, or another pgtune migration built, is
left with a hint; so is one whose plan serves a workload statement the new
index does not serve (health.workload_plans, each statement in its role's
search_path). The down script builds it again exactly (health.emit).
"""

from __future__ import annotations

from typing import Any

import psycopg

from .._text import one_line
from ..analyze import Advice, twin_of
from ..capture import Catalog
from ..connect import lost
from ..errors import PgtuneError
from ..plan import ExistingIndex, IndexFix, Layout, Phase, PhaseStep
from .checks import catalog_rows
from .emit import restore_statements
from .provenance import built_by, owner
from .workload_plans import UsedBy, statements_using


def drop_phase(conn: psycopg.Connection[Any], advice: Advice, catalog: Catalog, number: int,
               layout: Layout) -> tuple[Phase | None, list[str]]:
    """Phase ``number`` dropping the indexes the advice's new ones replace, and a line per one kept and why."""
    pairs = [(ix, old) for ix in advice.indexes for old in ix.redundant]
    if not pairs:
        return None, []
    restore = {(r["schema"], r["index"]): r for r in catalog_rows(conn, "health_indexes")}
    tool, built = owner(catalog), built_by(conn)
    try:
        used = statements_using(conn, {(ix.schema, old) for ix, old in pairs})
    except (PgtuneError, psycopg.Error) as exc:      # no pg_stat_statements (a --queries file): nothing is dropped
        if lost(conn):
            raise
        return None, [f"existing index {old} kept beside {ix.name}: the workload's plans could not be read "
                      f"({one_line(str(exc), 100)})" for ix, old in pairs]
    drops: dict[tuple[str, str], ExistingIndex] = {}
    kept: list[str] = []
    for ix, old in pairs:
        key = (ix.schema, old)
        r = restore.get(key)
        if key in drops or r is None or r["is_unique"] or r["is_protected"]:
            continue
        # A covering twin (its keys and predicate, a wider INCLUDE) serves every statement the old one does.
        why = _kept(ix.name, old, r, tool.tool if tool is not None and tool.layout != layout else None,
                    built[key].migration if key in built else None,
                    [] if twin_of(ix, catalog) == old else
                    [u for u in used if key in u.keys and u.statement.queryid not in
                     {q.queryid for q in ix.queries}])
        if why:
            kept.append(f"existing index {old} kept beside {ix.name}: {why}")
            continue
        drops[key] = ExistingIndex(ix.schema, ix.table, old, r["definition"], IndexFix.DROP,
                                   restore=restore_statements(r), bytes=int(r["index_bytes"]), served_by=ix.name,
                                   reason=f"{ix.name} serves all {old} does; {old} is dropped once {ix.name} is "
                                          "built and valid")
    if not drops:
        return None, kept
    return Phase(number, "drop the indexes the new ones make redundant",
                 "each costs writes and space for what a new index now serves; dropped last, CONCURRENTLY, only "
                 "once the index serving in its place is valid; the rollback builds each again exactly",
                 step=PhaseStep.DROP_INDEXES, existing=list(drops.values())), kept


def _kept(new: str, old: str, r: dict[str, Any], tool: str | None, migration: str | None,
          others: list[UsedBy]) -> str:
    """Why ``old`` stays ('' : it goes)."""
    if r.get("partitioned") or r.get("parent_index") is not None:
        return "an index of a partitioned table: drop it with pgtune health --emit"
    if tool == "Prisma Migrate" and not others:
        # Dropped here, the next `prisma migrate dev` builds it again while schema.prisma declares it, and once the
        # line is gone, the DROP INDEX that migrate dev writes stops a later deploy on "does not exist" (r36).
        return (f"the application's {tool} migrations made it: drop it through them (once {new} is built: remove "
                "its line from schema.prisma, run `prisma migrate dev --create-only`, and make the DROP INDEX it "
                "writes CONCURRENTLY, alone in its file)")
    if tool is not None:
        return f"the application's {tool} migrations made it: drop it through them"
    if migration is not None:
        return f"pgtune migration {migration} built it: roll that one back, or leave it"
    if others:
        u = others[0]
        return (f"the plan of {one_line(u.statement.query, 60)} (queryid {u.statement.queryid}) uses it, and "
                f"{new} does not serve that statement")
    return ""
