"""Write cost with HOT: an index on a column the workload's UPDATEs set ends their heap-only updates.

An UPDATE that changes no indexed column, and finds room on its page, is a
HOT update: the new row version is chained on the same page and no index is
written. An index on a column the update sets ends that: every such update
then writes a new entry in every index of the table, and bloats them. So a
candidate is charged, per row those UPDATEs changed in the window
(pg_stat_statements.rows), for the index writes the update would then make
(every index of the table, the new one too) at the rate those updates are
HOT now; a candidate that leaves the updated columns alone keeps HOT and
pays nothing of that. From PostgreSQL 16 a BRIN index (a summarizing index)
no longer stops HOT updates.

What counts as an indexed column: key columns, the columns an expression
key reads, INCLUDE columns and the columns of a partial index's predicate
(PostgreSQL compares all of them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from pglast import ast
from psycopg import sql
from psycopg.rows import dict_row

from .. import catalog_sql
from ..capture import Catalog, Index, Statement, TableKey, tenant_paths
from ..ddl import IndexKey, IndexMethod
from ..roles import Roles, read_roles
from ..sqltext import ParseFailed, expression, names, seq, walk, what_runs

WRITE_COST = 2.0            # planner cost units one index entry costs to write (advisor.WRITE_COST)
MAX_UPDATES = 200           # UPDATE statements read from pg_stat_statements (most rows first)
SUMMARIZING_FROM = 160000   # PostgreSQL 16: BRIN indexes no longer stop HOT updates


@dataclass(frozen=True)
class UpdateStatement:
    """One UPDATE of the workload: its table, the columns it sets, the rows it changed."""

    queryid: int | None
    query: str
    table: TableKey
    columns: frozenset[str]
    calls: int
    rows: int


@dataclass(frozen=True)
class TableHot:
    """A table's updates since the statistics reset, and how many were HOT."""

    updates: int
    hot: int
    fillfactor: int = 100
    indexes: int = 0

    @property
    def share(self) -> float | None:
        return self.hot / self.updates if self.updates else None


@dataclass
class Breakage:
    """The updates a candidate would stop being HOT, and what that costs."""

    statements: list[UpdateStatement]
    rows: float                      # rows those statements changed that are HOT now (estimated)
    charge: float                    # planner cost units: rows x indexes written x WRITE_COST


@dataclass
class HotWrites:
    """The workload's UPDATEs by table, and each table's HOT share: what a candidate would cost in writes."""

    catalog: Catalog
    updates: dict[TableKey, list[UpdateStatement]] = field(default_factory=dict)
    tables: dict[TableKey, TableHot] = field(default_factory=dict)
    server_version: int = 150000
    missing: str = ""                # why no UPDATE statement could be read (no pg_stat_statements), if so

    def indexed(self, table: TableKey) -> frozenset[str]:
        """The columns the table's existing indexes hold in any way (they already stop HOT updates of them)."""
        return frozenset().union(*(index_columns(i) for i in self.catalog.indexes_on(table)))

    def breaks(self, table: TableKey, columns: Iterable[str], method: IndexMethod = IndexMethod.BTREE) -> Breakage:
        """What an index holding ``columns`` on ``table`` would cost the updates that are HOT-eligible now."""
        if method == IndexMethod.BRIN and self.server_version >= SUMMARIZING_FROM:
            return Breakage([], 0.0, 0.0)
        wanted = set(columns)
        indexed = self.indexed(table)
        eligible = [u for u in self.updates.get(table, []) if not u.columns & indexed]
        hit = [u for u in eligible if u.columns & wanted]
        if not hit:
            return Breakage([], 0.0, 0.0)
        rows = sum(u.rows for u in hit) * self._hot_rate(table, eligible)
        stats = self.tables.get(table)
        written = (stats.indexes if stats is not None else len(self.catalog.indexes_on(table))) + 1
        return Breakage(hit, rows, rows * written * WRITE_COST)

    def _hot_rate(self, table: TableKey, eligible: list[UpdateStatement]) -> float:
        """The share of the eligible updates' rows that are HOT now.

        pg_stat_user_tables counts HOT updates per table; only the updates that
        set no indexed column can be among them, so their rate is the table's
        HOT updates over their rows (at most 1). Without counters, 1.
        """
        stats = self.tables.get(table)
        if stats is None or not stats.updates:
            return 1.0
        all_rows = sum(u.rows for u in self.updates.get(table, []))
        eligible_rows = sum(u.rows for u in eligible)
        if not eligible_rows:
            return 0.0
        share = stats.hot / stats.updates
        return min(1.0, share * max(all_rows, eligible_rows) / eligible_rows)

    def reason(self, table: TableKey, columns: Iterable[str], method: IndexMethod = IndexMethod.BTREE) -> str:
        """The HOT part of a proposal's reason: what it stops, or that it keeps HOT updates."""
        found = self.breaks(table, columns, method)
        if found.statements:
            sets = ", ".join(sorted(set().union(*(u.columns for u in found.statements)) & set(columns)))
            return (f"stops HOT updates: {len(found.statements)} UPDATE statement{_s(found.statements)} set {sets} "
                    f"({found.rows:,.0f} HOT row updates in the window), each would then write every index of the "
                    f"table: charged {found.charge:,.0f}")
        busy = [u for u in self.updates.get(table, []) if u.rows]
        setting = [u for u in busy if u.columns & set(columns)]
        if setting:
            # They set a column an existing index holds too: not HOT now, so this index takes no HOT away.
            sets = ", ".join(sorted(set().union(*(u.columns for u in setting)) & set(columns)))
            return (f"no HOT update to lose: the {len(setting)} UPDATE statement{_s(setting)} that set {sets} also "
                    "set a column an existing index holds, so they write every index already")
        if busy:
            return f"keeps HOT updates: holds none of the columns {len(busy)} UPDATE statement{_s(busy)} set"
        return ""


def _s(items: list[Any]) -> str:
    return "s" if len(items) != 1 else ""


def index_columns(index: Index) -> frozenset[str]:
    """Every column an index holds: keys, expression keys' columns, INCLUDE, and its predicate's columns."""
    out = {c for c in index.columns if c is not None} | set(index.include)
    for text in [*(d for c, d in zip(index.columns, index.key_defs, strict=False) if c is None), index.predicate]:
        out |= _columns_of(text)
    return frozenset(out)


def candidate_columns(keys: Iterable[IndexKey], include: Iterable[str] = (),
                      where: str | None = None) -> frozenset[str]:
    """The same for a candidate: its keys (an expression key's column), INCLUDE and predicate columns."""
    out = set(include)
    for k in keys:
        out.add(k.column)
        out |= _columns_of(k.expression)
    return frozenset(out | _columns_of(where))


def _columns_of(text: str | None) -> set[str]:
    if not text:
        return set()
    try:
        node = expression(text)
    except ParseFailed:
        return set()
    return {names(n.fields)[-1] for n in walk(node) if isinstance(n, ast.ColumnRef) and names(n.fields)}


def set_columns(query: str) -> tuple[tuple[str | None, str], frozenset[str]] | None:
    """(schema, table) an UPDATE writes and the columns it sets; None for anything else."""
    root = what_runs(query)
    if not isinstance(root, ast.UpdateStmt) or root.relation is None:
        return None
    cols = {t.name for t in seq(root.targetList) if isinstance(t, ast.ResTarget) and t.name}
    return (root.relation.schemaname, root.relation.relname or ""), frozenset(cols)


def read(conn: psycopg.Connection[Any], catalog: Catalog, roles: Roles | None = None,
         database: str | None = None) -> HotWrites:
    """The UPDATE statements of pg_stat_statements (through each role's search_path) and the tables' HOT counters."""
    out = HotWrites(catalog, server_version=conn.info.server_version)
    found = catalog_sql.extension_schema(conn, "pg_stat_statements")
    with catalog_sql.uncompiled(conn), conn.cursor(row_factory=dict_row) as cur:
        rows = []
        if found is not None:
            try:
                with conn.transaction():
                    cur.execute(catalog_sql.compose("update_statements",
                        statements=sql.Identifier(found, "pg_stat_statements")),
                        {"database": database, "limit": MAX_UPDATES})
                    rows = cur.fetchall()
            except psycopg.Error as exc:
                if conn.broken or conn.closed:
                    raise
                # The workload's other reads may still work (a view in its search_path): say why, go on.
                out.missing = f"update_statements.sql failed: {(str(exc).splitlines() or [''])[0]}"
        else:
            out.missing = "pg_stat_statements is not installed in this database (CREATE EXTENSION pg_stat_statements)"
        cur.execute(catalog_sql.load("hot_updates"))
        out.tables = {(r["schema"], r["table"]): TableHot(int(r["updates"] or 0), int(r["hot"] or 0),
                                                          int(r["fillfactor"]), int(r["indexes"]))
                      for r in cur.fetchall()}
    if roles is None:
        roles = read_roles(conn, {int(r["userid"]) for r in rows}, catalog.search_path, database=database)
    # a schema per tenant: each entry through the path its queryid names (p30)
    tenant_paths.place_where_needed(conn, roles, catalog, [Statement(r["query"], r["queryid"], userid=int(r["userid"]))
                                                           for r in rows if r["queryid"] is not None])
    for r in rows:
        found_set = set_columns(r["query"])
        if found_set is None or r["queryid"] in roles.unplaced:
            continue
        (schema, name), columns = found_set
        path = roles.view(int(r["userid"]), r["queryid"]).search_path
        table = catalog.lookup(schema, name, path or None)
        if table is None:
            continue
        out.updates.setdefault(table.key, []).append(UpdateStatement(
            r["queryid"], r["query"], table.key, columns, int(r["calls"]), int(r["rows"])))
    return out
