"""pgtune's own bookkeeping on the server: what apply ran, what it built, each phase's state.

Two tables in schema ``pgtune`` (or the one asked for): ``history``, one row
per statement run with the object it built and that object's OID, and
``phases``, the current state of each phase. Rollback asks ``owns`` before it
drops anything, so an object of the same name that pgtune did not create is
never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from . import catalog_sql
from ._text import error_text
from .errors import DatabaseError
from .plan import Direction

DEFAULT_SCHEMA = "pgtune"


class StepStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class PhaseState(StrEnum):
    """A phase's state; the history stores every one but PENDING (no row: never run)."""

    PENDING = "pending"
    APPLIED = "applied"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"


@dataclass(frozen=True)
class Ownership:
    """The latest thing this migration's history says about one object."""

    owned: bool
    oid: int | None
    status: str
    direction: Direction


@dataclass(frozen=True)
class Dependent:
    """Another migration's drop that relies on an object of this one: rolling this one back leaves it unserved."""

    migration_id: str
    dropped: str          # the object key it dropped
    relies_on: str        # the object key that serves in its place


def exists(conn: psycopg.Connection[Any], schema: str = DEFAULT_SCHEMA) -> bool:
    """Has any pgtune apply run here (its history tables exist in ``schema``)?"""
    # A schema the role may not use reads as none (to_regclass would raise): nothing pgtune applied is visible.
    row = conn.execute("SELECT /* pgtune */ CASE WHEN has_schema_privilege(n.oid, 'USAGE') "
                       "THEN to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL ELSE false END "
                       "FROM pg_catalog.pg_namespace AS n WHERE n.nspname = %s",
                       (sql.Identifier(schema, "history").as_string(conn),
                        sql.Identifier(schema, "phases").as_string(conn), schema)).fetchone()
    return bool(row and row[0])


class History:
    def __init__(self, conn: psycopg.Connection[Any], migration_id: str, schema: str = DEFAULT_SCHEMA) -> None:
        self.conn, self.migration_id, self.schema = conn, migration_id, schema

    def _t(self, table: str) -> sql.Composable:
        return sql.Identifier(self.schema, table)

    def exists(self) -> bool:
        return exists(self.conn, self.schema)

    def ensure(self) -> None:
        """Create or upgrade the tables; rows left 'running' belong to an applier that died."""
        missing = self.require_readable()      # before its DDL: a role the owner's schema refuses is told whose it is
        try:
            if missing:     # p16: CREATE SCHEMA IF NOT EXISTS wants CREATE on the database even when it exists
                self.conn.execute(sql.SQL(catalog_sql.load("history_create_schema"))
                                  .format(schema=sql.Identifier(self.schema)))
            self.conn.execute(sql.SQL(catalog_sql.load("history_schema")).format(schema=sql.Identifier(self.schema)))
        except psycopg.errors.InsufficientPrivilege as exc:
            # u2's R4: say what the role needs, not only what it was refused.
            role, db = self.conn.info.user, self.conn.info.dbname
            owner = self.foreign_owner()
            if owner is not None:      # another role applied here: it is the one to run pgtune (u6)
                raise DatabaseError(f"{error_text(exc)}; {self._owned_by(owner)}", "42501").with_exit(2) from None
            raise DatabaseError(
                f"{error_text(exc)}; pgtune keeps its history in schema {self.schema}: "
                f"GRANT CREATE ON DATABASE {sql.Identifier(db).as_string(self.conn)} TO "
                f"{sql.Identifier(role).as_string(self.conn)}, or have its owner run CREATE SCHEMA "
                f"{sql.Identifier(self.schema).as_string(self.conn)} AUTHORIZATION "
                f"{sql.Identifier(role).as_string(self.conn)}; the role must also own the tables it changes",
                "42501").with_exit(2) from None
        # Only one applier can hold the advisory lock, so a 'running' row is an orphan.
        self.conn.execute(sql.SQL("UPDATE /* pgtune */ {} SET status = 'interrupted', finished = clock_timestamp() "
                                  "WHERE status = 'running'").format(self._t("history")))

    def foreign_owner(self) -> str | None:
        """The role owning the history's schema when it is not this session's role (None: no such schema, or
        this role's own)."""
        with self.conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(catalog_sql.load("history_schema_owner"), {"schema": self.schema}).fetchone()
        return None if row is None or row["owner"] == self.conn.info.user else str(row["owner"])

    def _owned_by(self, owner: str) -> str:
        role = sql.Identifier(self.conn.info.user).as_string(self.conn)
        schema = sql.Identifier(self.schema).as_string(self.conn)
        return (f"pgtune's history here (schema {schema}) belongs to role {owner}, which applied this database's "
                f"migrations and owns what they changed: run pgtune as {owner} (or, to read it only, GRANT USAGE ON "
                f"SCHEMA {schema} TO {role}; GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role})")

    def require_readable(self) -> bool:
        """Refuse (exit 2) when the history exists but this role may not read it: every phase would read as never
        applied (u6: status as the application's role showed the owner's applied phases pending, their indexes
        'built outside pgtune apply'). True when the history's schema does not exist."""
        with self.conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(catalog_sql.load("history_schema_owner"), {"schema": self.schema}).fetchone()
        if row is not None and not row["usable"]:
            raise DatabaseError(f"permission denied for schema {self.schema}; {self._owned_by(str(row['owner']))}",
                                "42501").with_exit(2)
        return row is None

    def states(self, lock_key: int | None = None) -> dict[int, PhaseState]:
        """Each phase that ever ran, with its state (a phase missing here is PENDING); with ``lock_key``, a phase
        whose run died (``died``) is FAILED."""
        self.require_readable()
        if not self.exists():
            return {}
        rows = self.conn.execute(sql.SQL("SELECT /* pgtune */ phase, status FROM {} WHERE migration_id = %s")
                                 .format(self._t("phases")), (self.migration_id,)).fetchall()
        died = self.died(lock_key) if lock_key is not None else set()
        return {int(r[0]): PhaseState(r[1]) for r in rows} | dict.fromkeys(died, PhaseState.FAILED)

    def died(self, lock_key: int) -> set[int]:
        """Phases a run started and never ended (its applier killed, or the server restarted under it): a history
        row newer than the phase's state, while no other applier holds ``lock_key`` (p23: status read them pending
        or rolled_back, an INVALID leftover unnamed, exit 0; rollback had 'nothing to do'). None on a hot standby:
        the primary's appliers hold their lock where its pg_locks cannot show it (r22: a live one read failed)."""
        if not self.exists() or self.conn.execute(catalog_sql.load("advisory_lock_holder"),
                                                  {"key": lock_key}).fetchone() is not None:
            return set()        # an applier is at work (the query apply/lock.py names it with)
        rows = self.conn.execute(sql.SQL(
            "SELECT /* pgtune */ DISTINCT h.phase FROM {} h WHERE h.migration_id = %s "
            "AND NOT pg_catalog.pg_is_in_recovery() AND NOT EXISTS "
            "(SELECT FROM {} p WHERE p.migration_id = h.migration_id AND p.phase = h.phase AND p.updated >= h.started)"
            ).format(self._t("history"), self._t("phases")), (self.migration_id,)).fetchall()
        return {int(r[0]) for r in rows}

    def set_state(self, phase: int, state: PhaseState, checksum: str) -> None:
        self.conn.execute(sql.SQL(
            "INSERT /* pgtune */ INTO {} (migration_id, phase, status, checksum) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (migration_id, phase) DO UPDATE SET status = excluded.status, "
            "checksum = excluded.checksum, updated = clock_timestamp()").format(self._t("phases")),
            (self.migration_id, phase, str(state), checksum))

    def start(self, phase: int, direction: Direction, stmt: str, checksum: str, obj: str | None,
              relies_on: str | None = None) -> int:
        row = self.conn.execute(sql.SQL(
            "INSERT /* pgtune */ INTO {} (migration_id, phase, direction, statement, checksum, status, object, "
            "relies_on) VALUES (%s, %s, %s, %s, %s, 'running', %s, %s) RETURNING id").format(self._t("history")),
            (self.migration_id, phase, str(direction), stmt, checksum, obj, relies_on)).fetchone()
        assert row is not None
        return int(row[0])

    def end(self, row_id: int, status: StepStatus, error: str | None, seconds: float, *,
            owned: bool | None = None, oid: int | None = None) -> None:
        self.conn.execute(sql.SQL(
            "UPDATE /* pgtune */ {} SET status = %s, error = %s, finished = clock_timestamp(), "
            "duration_ms = %s, owned = %s, object_oid = %s WHERE id = %s").format(self._t("history")),
            (str(status), error, seconds * 1000.0, owned, oid, row_id))

    def log(self, phase: int, direction: Direction, stmt: str, checksum: str, status: StepStatus, obj: str | None,
            *, owned: bool | None = None, oid: int | None = None, note: str | None = None) -> None:
        self.end(self.start(phase, direction, stmt, checksum, obj), status, note, 0.0, owned=owned, oid=oid)

    def ownership(self, obj: str) -> Ownership | None:
        """The last final word of this migration's history on ``obj`` (None: it never touched it)."""
        if not self.exists():
            return None
        row = self.conn.execute(sql.SQL(
            "SELECT /* pgtune */ coalesce(owned, false), object_oid, status, direction FROM {} "
            "WHERE migration_id = %s AND object = %s AND status IN ('done', 'skipped') "
            "ORDER BY id DESC LIMIT 1").format(self._t("history")), (self.migration_id, obj)).fetchone()
        if row is None:
            return None
        return Ownership(bool(row[0]), None if row[1] is None else int(row[1]), str(row[2]), Direction(row[3]))

    def owner_elsewhere(self, obj: str, oid: int) -> str | None:
        """Another migration whose history owns ``obj`` with this OID (it built or adopted it), if any."""
        if not self.exists():
            return None
        row = self.conn.execute(sql.SQL(
            "SELECT /* pgtune */ migration_id FROM {} WHERE migration_id <> %s AND object = %s AND object_oid = %s "
            "AND owned AND direction = 'up' AND status IN ('done', 'skipped') ORDER BY id DESC LIMIT 1")
            .format(self._t("history")), (self.migration_id, obj, oid)).fetchone()
        return None if row is None else str(row[0])

    def _last_row(self, obj: str, direction: Direction) -> tuple[str, str | None] | None:
        """The status and error of this migration's last history row for ``obj`` going ``direction``, if any."""
        if not self.exists():
            return None
        row = self.conn.execute(sql.SQL(
            "SELECT /* pgtune */ status, error FROM {} WHERE migration_id = %s AND object = %s AND direction = %s "
            "ORDER BY id DESC LIMIT 1").format(self._t("history")), (self.migration_id, obj, str(direction))).fetchone()
        return None if row is None else (str(row[0]), row[1])

    def attempted(self, obj: str, direction: Direction = Direction.UP) -> bool:
        """Did a run of this migration start making ``obj`` (going ``direction``) and die before recording the end?"""
        row = self._last_row(obj, direction)
        return row is not None and row[0] in (StepStatus.RUNNING, StepStatus.INTERRUPTED, StepStatus.FAILED)

    def died_making(self, obj: str) -> bool:
        """Did the last run of this migration that started making ``obj`` die before recording the end: its row
        'running', or 'interrupted' with no word of why (a later run's ensure() marks a dead run's rows so; a
        Ctrl-C's says it, and a build that failed or was interrupted dropped its own leftover)?"""
        row = self._last_row(obj, Direction.UP)
        return row is not None and (row[0] == StepStatus.RUNNING
                                    or (row[0] == StepStatus.INTERRUPTED and row[1] is None))

    def dependents(self, objects: list[str]) -> list[Dependent]:
        """What other migrations, applied now, dropped because one of ``objects`` serves in its place."""
        if not objects or not self.exists():
            return []
        rows = self.conn.execute(sql.SQL(
            "SELECT /* pgtune */ h.migration_id, h.object, h.relies_on FROM {} AS h "
            "JOIN {} AS p ON p.migration_id = h.migration_id AND p.phase = h.phase "
            "WHERE h.relies_on = ANY(%s) AND h.migration_id <> %s AND h.direction = 'up' AND h.status = 'done' "
            "AND p.status = 'applied' ORDER BY h.id").format(self._t("history"), self._t("phases")),
            (objects, self.migration_id)).fetchall()
        return [Dependent(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    def built(self) -> list[tuple[str, Any]]:
        """(object key, finished) of every object this migration made going up (plan.Step.key)."""
        return [(str(r[0]), r[1]) for r in self.conn.execute(sql.SQL(
            "SELECT /* pgtune */ object, finished FROM {} WHERE migration_id = %s AND direction = 'up' "
            "AND status = 'done' AND object IS NOT NULL").format(self._t("history")),
            (self.migration_id,)).fetchall()]
