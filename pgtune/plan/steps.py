"""A migration step: one unit of a script (a statement, or a BEGIN … COMMIT block) and the object it touches.

The steps are written to the manifest beside the scripts and are what apply,
rollback, status and verify read to learn what a unit builds or removes: no
room parses SQL back for that. The scripts stay the text a DBA reviews; at
load every unit of a script must be its step's SQL, one to one, or the folder
is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .. import ddl


class ObjectKind(StrEnum):
    """What a step's object is, which says how it is built and removed."""

    INDEX = "index"                          # on a table, a leaf partition or a materialized view: CONCURRENTLY
    PARTITIONED_INDEX = "partitioned-index"  # an index of a partitioned table (relkind I): a plain DROP INDEX
    INDEX_ON_ONLY = "index-on-only"          # CREATE INDEX … ON ONLY: INVALID until every partition's is attached
    ATTACH = "attach"                        # ALTER INDEX … ATTACH PARTITION: a partition's index joins its parent's
    CONSTRAINT = "constraint"
    NOT_NULL = "not-null"                    # a column's NOT NULL (``name`` is the column)
    TABLE = "table"                          # ANALYZE (``name`` is the table)
    SETTING = "setting"                      # SET lock_timeout …: the session the script runs in (``name`` the setting)
    SERVER_SETTING = "server-setting"        # ALTER SYSTEM … (``name`` the setting); pg_reload_conf() is one too
    ROLE_SETTING = "role-setting"            # ALTER ROLE … IN DATABASE … SET (``table`` the role, ``schema`` the db)
    TABLE_SETTING = "table-setting"          # ALTER TABLE … SET (…): a storage parameter (``name`` the parameter)
    EXTENSION = "extension"                  # CREATE EXTENSION (``name`` the extension, ``schema`` where it goes)
    STATISTICS = "statistics"                # CREATE STATISTICS: extended statistics on columns of ``table``


class Action(StrEnum):
    """What a step does to its object."""

    CREATE = "create"        # CREATE INDEX, ADD CONSTRAINT, SET NOT NULL, ATTACH PARTITION
    DROP = "drop"            # DROP INDEX, DROP CONSTRAINT, DROP NOT NULL
    REBUILD = "rebuild"      # REINDEX INDEX CONCURRENTLY
    VALIDATE = "validate"    # ALTER TABLE … VALIDATE CONSTRAINT
    ANALYZE = "analyze"
    ALTER = "alter"          # a property of an index built just before: COMMENT, statistics target, CLUSTER ON
    SET = "set"              # a setting: the session's, or one ALTER SYSTEM / ROLE / TABLE stores
    RELOAD = "reload"        # pg_reload_conf(): the server reads its configuration files again


class Direction(StrEnum):
    """Which way a phase runs: its up script (apply) or its down script (rollback)."""

    UP = "up"
    DOWN = "down"


INDEX_KINDS = (ObjectKind.INDEX, ObjectKind.PARTITIONED_INDEX, ObjectKind.INDEX_ON_ONLY)


@dataclass(frozen=True)
class Name:
    """A schema-qualified relation name (a partition may live in another schema than its parent)."""

    schema: str
    name: str

    def __str__(self) -> str:
        return ddl.qualified(self.schema, self.name)


@dataclass(frozen=True)
class Step:
    """One unit of a script and the object it touches.

    ``definition`` is the CREATE INDEX an index must end up with (apply and
    status compare it with pg_get_indexdef); ``parent`` is the partitioned
    index a partition's index is attached to; ``partitions`` are the direct
    partitions a partitioned table had at emit (an ON ONLY step: apply stops
    when they changed). ``undo`` is what undoes this step alone, for tools
    that keep one statement per file; the down script is the phase's undo.
    """

    kind: ObjectKind
    action: Action
    schema: str
    name: str
    sql: tuple[str, ...]
    block: bool = False
    table: str = ""
    definition: str = ""
    parent: Name | None = None
    partitions: tuple[Name, ...] = ()
    helper_for: str = ""                      # a CHECK (col IS NOT NULL) that prepares this column's NOT NULL
    undo: tuple[str, ...] = field(default_factory=tuple)
    relies_on: Name | None = None             # a drop: the index that serves in its place (it must stay)

    @property
    def is_index(self) -> bool:
        return self.kind in INDEX_KINDS

    @property
    def key(self) -> str | None:
        """The history's name for the object (quoted, so no two objects share one); None: nothing to own.

        Only a step that makes, removes or rebuilds its object names it: a
        VALIDATE, an ANALYZE or a property set must not stand as the history's
        last word on who owns the object.
        """
        if self.action not in (Action.CREATE, Action.DROP, Action.REBUILD):
            return None
        if self.is_index:
            return f"index {ddl.qualified(self.schema, self.name)}"
        if self.kind == ObjectKind.ATTACH:
            return f"attach {ddl.qualified(self.schema, self.name)}"
        if self.kind in (ObjectKind.CONSTRAINT, ObjectKind.NOT_NULL):
            return f"{self.kind} {ddl.qualified(self.schema, self.table)}.{ddl.name(self.name)}"
        if self.kind == ObjectKind.EXTENSION:
            return f"extension {ddl.name(self.name)}"
        if self.kind == ObjectKind.STATISTICS:
            return f"statistics {ddl.qualified(self.schema, self.name)}"
        return None

    @property
    def label(self) -> str:
        if self.kind == ObjectKind.ATTACH:
            return f"index {ddl.qualified(self.schema, self.name)} attached to {self.parent}"
        if self.is_index:
            what = "index" if self.kind == ObjectKind.INDEX else "partitioned index"
            return f"{what} {ddl.qualified(self.schema, self.name)}"
        if self.kind == ObjectKind.CONSTRAINT:
            return f"constraint {ddl.name(self.name)} of {ddl.qualified(self.schema, self.table)}"
        if self.kind == ObjectKind.NOT_NULL:
            return f"NOT NULL on column {ddl.name(self.name)} of {ddl.qualified(self.schema, self.table)}"
        if self.kind == ObjectKind.TABLE:
            return f"table {ddl.qualified(self.schema, self.name)}"
        if self.kind == ObjectKind.EXTENSION:
            return f"extension {ddl.name(self.name)}"
        if self.kind == ObjectKind.STATISTICS:
            return f"statistics {ddl.qualified(self.schema, self.name)} on {ddl.qualified(self.schema, self.table)}"
        if self.kind == ObjectKind.ROLE_SETTING:
            return f"setting {self.name} of role {ddl.name(self.table)} in database {ddl.name(self.schema)}"
        if self.kind == ObjectKind.TABLE_SETTING:
            return f"storage parameter {self.name} of {ddl.qualified(self.schema, self.table)}"
        if self.kind == ObjectKind.SERVER_SETTING:
            return "configuration reload" if self.action == Action.RELOAD else f"server setting {self.name}"
        return f"setting {self.name}"

    @property
    def text(self) -> str:
        """The unit as SQL that parses again (history and reports show this)."""
        return ";\n".join(self.sql)

    def lines(self) -> list[str]:
        """The unit as the script prints it."""
        if self.block:
            return ["BEGIN;", *(s + ";" for s in self.sql), "COMMIT;"]
        return [s + ";" for s in self.sql]

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": str(self.kind), "action": str(self.action), "schema": self.schema,
                               "name": self.name, "sql": list(self.sql)}
        if self.block:
            out["block"] = True
        for attr in ("table", "definition", "helper_for"):
            if getattr(self, attr):
                out[attr] = getattr(self, attr)
        if self.parent is not None:
            out["parent"] = {"schema": self.parent.schema, "name": self.parent.name}
        if self.partitions:
            out["partitions"] = [{"schema": p.schema, "name": p.name} for p in self.partitions]
        if self.undo:
            out["undo"] = list(self.undo)
        if self.relies_on is not None:
            out["relies_on"] = {"schema": self.relies_on.schema, "name": self.relies_on.name}
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Step:
        parent, relies = raw.get("parent"), raw.get("relies_on")
        return cls(ObjectKind(raw["kind"]), Action(raw["action"]), str(raw["schema"]), str(raw["name"]),
                   tuple(str(s) for s in raw["sql"]), bool(raw.get("block", False)), str(raw.get("table", "")),
                   str(raw.get("definition", "")),
                   Name(str(parent["schema"]), str(parent["name"])) if parent else None,
                   tuple(Name(str(p["schema"]), str(p["name"])) for p in raw.get("partitions", ())),
                   str(raw.get("helper_for", "")), tuple(str(s) for s in raw.get("undo", ())),
                   Name(str(relies["schema"]), str(relies["name"])) if relies else None)


def index_key(name: Name) -> str:
    """The history's key of an index (Step.key of any step that makes or drops it)."""
    return f"index {name}"


def setting(name: str, value: str) -> Step:
    """``SET name = value``: ``value`` is already a checked SET value (a quoted duration, on, 0)."""
    return Step(ObjectKind.SETTING, Action.SET, "", name, (f"SET {name} = {value}",))


def roots(steps: list[Step]) -> dict[Name, Step]:
    """Each index the steps make or drop, mapped to the step of the index it belongs to.

    A plain index belongs to itself; a partition's index (at any depth) to
    the topmost partitioned index of its recipe: the one a plan names, and
    the one a statement's plan uses through the partitions' indexes.
    """
    made = {Name(s.schema, s.name): s for s in steps if s.is_index and s.action != Action.ALTER}
    out: dict[Name, Step] = {}
    for name, step in made.items():
        top = step
        while top.parent is not None and top.parent in made:
            top = made[top.parent]
        out[name] = top
    return out
