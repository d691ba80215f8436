"""The catalog as apply sees it: do the planned objects exist, are they valid, whose are they (OIDs).

Some of these reads lock what they read (pg_relation_size, pg_partition_tree
take ACCESS SHARE), so one could queue behind a DDL's ACCESS EXCLUSIVE for as
long as it lasts: each read gives up after CATALOG_LOCK_TIMEOUT, says who
held the lock, and tries again a few times before apply stops with that name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pgerrors
from psycopg import sql
from psycopg.rows import dict_row

from .. import catalog_sql, ddl
from .._text import Progress
from ..connect import exclusive_lock_holders, lost
from ..errors import ApplyFailed
from ..plan import AttachedIndex, Name, folder_slug, partitions
from ..roles import NoTemporary, rolled_back
from .retry import LockRetry

CATALOG_LOCK_TIMEOUT = "2s"
T = TypeVar("T")


@dataclass(frozen=True)
class IndexState:
    oid: int
    valid: bool
    definition: str
    bytes: int = 0
    partitioned: bool = False          # relkind I: an index of a partitioned table
    parent: Name | None = None         # the partitioned index it is attached to


@dataclass(frozen=True)
class ConstraintState:
    oid: int
    validated: bool


@dataclass(frozen=True)
class ExtensionState:
    oid: int
    schema: str
    version: str
    users: tuple[str, ...] = ()       # what outside the extension depends on it (pg_describe_object)


@dataclass(frozen=True)
class StatisticsState:
    oid: int
    definition: str                   # pg_get_statisticsobjdef


class ObjectStates:
    """Catalog probes for one connection (named SQL files under sql/)."""

    def __init__(self, conn: psycopg.Connection[Any], say: Progress | None = None, retries: int = 3,
                 backoff: float = 1.0) -> None:
        self.conn = conn
        self.say = say or (lambda _m: None)
        self.retry = LockRetry(retries, backoff, self.say)

    def _read(self, read: Callable[[], T]) -> T:
        """``read()`` under a short lock_timeout; a lock timeout names who held the lock and is retried."""
        held: list[str] = []

        def attempt() -> T:
            try:
                with self.conn.transaction(), catalog_sql.uncompiled(self.conn):
                    self.conn.execute(f"SET LOCAL /* pgtune */ lock_timeout = '{CATALOG_LOCK_TIMEOUT}'")
                    return read()
            except pgerrors.LockNotAvailable:
                held[:] = [self.holders()]
                self.say(f"pgtune's catalog read waited {CATALOG_LOCK_TIMEOUT} for a lock: {held[0]}")
                raise

        return self.retry.run(attempt, what="on a catalog read", give_up=lambda n, _why: ApplyFailed(
            f"pgtune's catalog reads could not get a lock ({n + 1} tries of {CATALOG_LOCK_TIMEOUT}): {held[0]}; "
            "apply again once it is released"))

    def _rows(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            with self.conn.cursor(row_factory=dict_row) as cur:
                cur.execute(catalog_sql.load(name), params)
                return cur.fetchall()
        return self._read(read)

    def holders(self) -> str:
        """Who holds or awaits an ACCESS EXCLUSIVE lock here: the only lock a catalog read waits for."""
        return exclusive_lock_holders(self.conn)

    def indexes(self, names: list[tuple[str, str]]) -> dict[tuple[str, str], IndexState]:
        if not names:
            return {}
        rows = self._rows("index_states", {"schemas": [s for s, _ in names], "names": [n for _, n in names]})
        return {(r["schema"], r["name"]): IndexState(
            int(r["oid"]), bool(r["is_valid"]), r["definition"], int(r["bytes"] or 0), bool(r["partitioned"]),
            Name(r["parent_schema"], r["parent_name"]) if r["parent_name"] is not None else None) for r in rows}

    def index(self, schema: str, name: str) -> IndexState | None:
        return self.indexes([(schema, name)]).get((schema, name))

    def constraints(self, names: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], ConstraintState]:
        if not names:
            return {}
        rows = self._rows("constraint_states", {"schemas": [n[0] for n in names], "tables": [n[1] for n in names],
                                                "names": [n[2] for n in names]})
        return {(r["schema"], r["table"], r["name"]): ConstraintState(int(r["oid"]), bool(r["validated"]))
                for r in rows}

    def constraint(self, schema: str, table: str, name: str) -> ConstraintState | None:
        return self.constraints([(schema, table, name)]).get((schema, table, name))

    def same_check(self, schema: str, table: str, name: str, add: str) -> bool:
        """Is the CHECK ``name`` on the table the rule ``add`` (ALTER TABLE … ADD CONSTRAINT) makes? The planned
        one is added to a temporary copy of the table's columns and both printed by the server, then rolled back.

        The copy reads the table under a short lock_timeout: a lock held by someone else is waited out as the
        other catalog reads are (retried, then apply stops naming who held it), not taken for another rule. A
        session that may not make the copy (no TEMPORARY privilege) cannot tell: apply stops and says why.
        """
        probe = sql.Identifier("pg_temp", "pgtune_check_probe")

        def read() -> bool:
            try:
                with rolled_back(self.conn, CATALOG_LOCK_TIMEOUT):
                    self.conn.execute(sql.SQL("CREATE /* pgtune */ TEMPORARY TABLE {} (LIKE {})").format(
                        probe, sql.Identifier(schema, table)))
                    self.conn.execute(ddl.check_on(add, "pg_temp", "pgtune_check_probe"))
                    rows = self.conn.execute(catalog_sql.load("check_definitions"), {
                        "name": name, "table": sql.Identifier(schema, table).as_string(self.conn),
                        "probe": probe.as_string(self.conn)}).fetchall()
            except NoTemporary as refused:
                raise ApplyFailed(f"constraint {name} already exists on {ddl.qualified(schema, table)}; pgtune "
                                  f"cannot tell whether it is the rule it plans: {refused} (it compares them on a "
                                  "temporary copy of the table's columns)") from None
            except pgerrors.LockNotAvailable:
                raise
            except psycopg.Error:
                if lost(self.conn):
                    raise
                return False      # the rule cannot be made on the columns as they are now: not the same
            found = {bool(r[0]): r[1] for r in rows}
            return len(found) == 2 and found[True] == found[False]

        return self._read(read)

    def extension(self, name: str) -> ExtensionState | None:
        """An installed extension, and what outside it uses it (rollback drops it only when nothing does)."""
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.load("extension_states"), {"names": [name]})
            r = cur.fetchone()
        return ExtensionState(int(r["oid"]), r["schema"], r["version"], tuple(r["users"])) if r else None

    def statistics(self, schema: str, name: str) -> StatisticsState | None:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.load("statistics_states"), {"schemas": [schema], "names": [name]})
            r = cur.fetchone()
        return StatisticsState(int(r["oid"]), r["definition"]) if r else None

    def migration_ledger(self) -> str | None:
        """The ledger table of a migration tool that manages this database (sql/migration_ledgers.sql), if any."""
        rows = self._rows("migration_ledgers", {})
        return f"{rows[0]['schema']}.{rows[0]['ledger']}" if rows else None

    def prisma_deployed(self, name: str) -> str | None:
        """The folder of a pgtune ``--layout prisma`` migration that builds index ``name`` and that Prisma Migrate's
        ledger says it deployed (<stamp>_pgtune_p<N>_build_<name>, as plan.layouts names it), if any: Prisma's,
        not a script run by hand (p31: adopted by the same advice's pgtune folder, its rollback dropped 17)."""
        slug = folder_slug(f"build_{name}")
        for r in self._rows("migration_ledgers", {}):
            if r["ledger"] != "_prisma_migrations":
                continue
            query = catalog_sql.compose("prisma_pgtune_builds", ledger=sql.Identifier(r["schema"], r["ledger"]))

            def read(q: sql.Composed = query) -> list[str]:
                return [str(f) for (f,) in self.conn.execute(q).fetchall()]
            try:
                folders = self._read(read)
            except psycopg.Error:
                if lost(self.conn):
                    raise
                continue          # a ledger this role may not read
            for folder in folders:
                found = re.fullmatch(r"\d{14}_pgtune_p\d+_(.+)", folder)
                if found is not None and found.group(1).startswith(slug):
                    return folder
        return None

    def not_null(self, columns: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], bool]:
        """(schema, table, column) -> attnotnull."""
        if not columns:
            return {}
        rows = self._rows("not_null_columns", {"schemas": [c[0] for c in columns], "tables": [c[1] for c in columns],
                                               "columns": [c[2] for c in columns]})
        return {(r["schema"], r["table"], r["column"]): bool(r["not_null"]) for r in rows}

    def column_not_null(self, schema: str, table: str, column: str) -> bool:
        return self.not_null([(schema, table, column)]).get((schema, table, column), False)

    def reindex_leftovers(self, schema: str, name: str) -> list[str]:
        """Names of the INVALID ``_ccnew`` copies an interrupted REINDEX CONCURRENTLY of the index left."""
        return [r["name"] for r in self._rows("reindex_leftovers", {"schema": schema, "name": name})]

    def partitions(self, schema: str, table: str) -> set[Name]:
        """The direct partitions of a partitioned table now."""
        rows = self._rows("partition_trees", {"schemas": [schema], "tables": [table]})
        return {Name(r["schema"], r["table"]) for r in rows
                if (r["parent_schema"], r["parent_table"]) == (schema, table)}

    def attached(self, index: Name) -> list[AttachedIndex]:
        """Every partition of a partitioned index's table, with the index attached for it (None: none yet)."""
        found = self._read(lambda: partitions.attached(self.conn, [(index.schema, index.name)]))
        return found.get((index.schema, index.name), [])

    def indexed_under(self, parent: Name, schema: str, table: str) -> Name | None:
        """The index of partition ``schema.table`` attached to ``parent``, if it has one."""
        for a in self.attached(parent):
            if (a.table_schema, a.table) == (schema, table) and a.index is not None and a.index_schema is not None \
                    and a.parent_index == parent.name and a.parent_index_schema == parent.schema:
                return Name(a.index_schema, a.index)
        return None

    def long_transactions(self, seconds: int) -> list[str]:
        return [f"transaction pid {r['pid']} ({r['role']}) open for {r['seconds']}s: "
                "concurrent index builds will wait for it to finish"
                for r in self._rows("long_transactions", {"seconds": seconds})]
