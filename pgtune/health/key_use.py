"""Does anything use a foreign key's index? The parent's deletes and key updates, and the workload's reads.

An index on a foreign key's columns serves two things: the search the server
makes in the referencing table for every deleted parent row (and every update
of the parent's referenced key), and the workload's own reads of the child by
those columns (a join, a filter, a sort). Where the parent had no delete in the
statistics window, no UPDATE of the workload sets its referenced columns, and
no statement of the workload reads the child by the key's columns, the index
would serve nothing yet and cost every write to the child its upkeep
(formbricks' tryout, F5: a key into a table with no rows and no deletes got a
warning and an index). "No delete in the window" means something only when
the window is long enough (--min-stats-age) or the parent is empty (nothing to
delete). Whatever cannot be read (pg_stat_statements) leaves the key as it was:
reported, with its fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from .. import catalog_sql
from ..analyze import OUTPUT, STAR, Role, bind, hot
from ..capture import Catalog, ForeignKey, Statement, TableKey, WorkloadFilter, read_workload, tenant_paths
from ..connect import lost
from ..errors import PgtuneError
from ..roles import RoleView, read_roles
from ..sqltext import ParseFailed, StatementKind

_DELETE = re.compile(r"\bdelete\b")
WORKLOAD_STATEMENTS = 1000       # the costliest statements of pg_stat_statements read for uses of a key's columns


@dataclass
class KeyUse:
    """What the workload does that a foreign key's index would serve, for the keys of one health run."""

    window_s: float                                                     # the statistics window (pg_stat_database)
    read_by: dict[tuple[TableKey, str], int] = field(default_factory=dict)   # (child, column) -> statements
    deleted: set[TableKey] = field(default_factory=set)                 # tables a workload DELETE names
    updates: dict[TableKey, list[hot.UpdateStatement]] = field(default_factory=dict)
    statements: int = 0                                                 # the workload statements read
    # Tables analyzed empty, with no write counted, that hold pages now (rows written before a statistics reset).
    not_empty: set[TableKey] = field(default_factory=set)

    def idle(self, fk: ForeignKey, catalog: Catalog, min_window_s: float) -> str | None:
        """Why an index on ``fk`` would serve nothing now, or None when it would (or that cannot be told)."""
        parent = catalog.tables.get((fk.ref_schema, fk.ref_table))
        ref = fk.ref_columns
        if parent is None or not ref:
            return None
        # Analyzed with no row, and no row written since: a count of 0 is stale once rows come in under the
        # autoanalyze threshold (on PostgreSQL 13 it also means never analyzed).
        empty = parent.reltuples == 0 and parent.writes == 0 and parent.key not in self.not_empty
        if parent.deletes or parent.key in self.deleted:
            return None
        if self.window_s < min_window_s and not empty:
            return None                               # too short a window to call "no deletes" a habit
        if any(u.columns & set(ref) for u in self.updates.get(parent.key, [])):
            return None
        if any((fk.table_key, c) in self.read_by for c in fk.columns):
            return None
        days = self.window_s / 86_400
        window = f"{days:.1f} days" if days >= 1 else f"{self.window_s / 3600:.1f} hours"
        return (f"{fk.ref_table} {'has no rows and ' if empty else ''}had no delete in the {window} of statistics, "
                f"no UPDATE of the workload sets its {', '.join(ref)}, and none of the {self.statements:,} "
                f"statements read reads {fk.table} by {', '.join(fk.columns)}: an index would cost every write to "
                f"{fk.table} for nothing now; build it once {fk.ref_table} sees deletes or the workload joins on "
                "the key")


def read(conn: psycopg.Connection[Any], catalog: Catalog) -> KeyUse | str:
    """The workload's uses of foreign keys, or why they cannot be read (then every key is reported as before)."""
    with conn.cursor(row_factory=dict_row) as cur:
        window = cur.execute(catalog_sql.load("health_stats_window")).fetchone()
        out = KeyUse(float(window["seconds"]) if window else 0.0)
    try:
        statements = read_workload(conn, WorkloadFilter(top=WORKLOAD_STATEMENTS))
        row = conn.execute("SELECT /* pgtune */ pg_catalog.current_schemas(false)").fetchone()
        roles = read_roles(conn, {st.userid for st in statements if st.userid is not None},
                           tuple(row[0]) if row else ("public",))
        tenant_paths.place_where_needed(conn, roles, catalog, statements)      # a schema per tenant (p30)
        writes = hot.read(conn, catalog, roles)
    except (PgtuneError, psycopg.Error) as exc:
        if lost(conn):
            raise
        return f"pg_stat_statements could not be read ({str(exc).splitlines()[0]})"
    if writes.missing:
        return writes.missing
    out.updates = writes.updates
    out.statements = len(statements)
    out.not_empty = _with_pages(conn, [t.key for t in catalog.tables.values() if t.reltuples == 0 and t.writes == 0])
    for st in statements:
        if st.queryid is None or st.queryid not in roles.unplaced:
            _take(out, st, catalog, roles.view(st.userid, st.queryid))
    return out


def _with_pages(conn: psycopg.Connection[Any], keys: list[TableKey]) -> set[TableKey]:
    """Those of ``keys`` that hold a page now: reltuples and the write counters say nothing after a reset."""
    if not keys:
        return set()
    rows = conn.execute(catalog_sql.load("health_heap_pages"),
                        {"schemas": [k[0] for k in keys], "tables": [k[1] for k in keys]}).fetchall()
    return {(str(r[0]), str(r[1])) for r in rows if r[2]}


def _take(out: KeyUse, st: Statement, catalog: Catalog, view: RoleView) -> None:
    """Count what ``st`` reads by (its filters, joins, sorts: not its output), and the table it deletes from."""
    text = st.query.lower()
    if not _DELETE.search(text) and not any(c.lower() in text for fk in catalog.foreign_keys for c in fk.columns):
        return      # names no key's column and deletes nothing: no bind (2 ms each, 1,000 statements read)
    try:
        shape = bind(st.query, catalog, view)
    except ParseFailed:
        # Unreadable (a truncated text): any column it names counts as read by, so no key is let off on a guess.
        for fk in catalog.foreign_keys:
            for c in fk.columns:
                if c.lower() in text:     # as the filter above: an unquoted name may be in any case
                    out.read_by[(fk.table_key, c)] = out.read_by.get((fk.table_key, c), 0) + 1
        return
    for key in {(u.table, u.column) for u in shape.uses if u.role not in (OUTPUT, STAR, Role.FILTER)}:
        out.read_by[key] = out.read_by.get(key, 0) + 1
    if shape.kind == StatementKind.DELETE:
        out.deleted |= shape.tables     # its target, and any table it reads: one of them is the one deleted from
