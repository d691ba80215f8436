"""Reading a migration script: its statements, its units, and the object each unit touches.

pglast's parser splits the text, so a statement boundary is where the server
would see one; a file that does not parse is refused whole, before anything
runs. A unit is one statement, or one ``BEGIN … COMMIT`` block run as a
single transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pglast
from pglast import ast
from pglast.enums import AlterTableType, ObjectType, ReindexObjectType, TransactionStmtKind

from . import ddl
from .errors import MigrationError
from .sqltext import names, seq, text


class ObjectKind(StrEnum):
    INDEX = "index"
    CONSTRAINT = "constraint"
    NOT_NULL = "not-null"


class Action(StrEnum):
    CREATE = "create"      # CREATE INDEX, ADD CONSTRAINT, SET NOT NULL
    DROP = "drop"          # DROP INDEX, DROP CONSTRAINT, DROP NOT NULL
    REBUILD = "rebuild"    # REINDEX INDEX
    OTHER = "other"        # VALIDATE, ANALYZE, SET …


@dataclass(frozen=True)
class ObjectRef:
    """What a unit creates or drops: an index, a constraint, or a column's NOT NULL."""

    kind: ObjectKind
    schema: str
    name: str                 # index or constraint name; the column for NOT NULL
    table: str = ""           # constraints and NOT NULL: the table

    @property
    def key(self) -> str:
        """The history's name for the object (quoted, so no two objects share a key)."""
        if self.kind == ObjectKind.INDEX:
            return f"{self.kind} {ddl.qualified(self.schema, self.name)}"
        return f"{self.kind} {ddl.qualified(self.schema, self.table)}.{ddl.name(self.name)}"

    @property
    def label(self) -> str:
        if self.kind == ObjectKind.INDEX:
            return f"index {ddl.qualified(self.schema, self.name)}"
        what = "constraint" if self.kind == ObjectKind.CONSTRAINT else "NOT NULL on column"
        return f"{what} {ddl.name(self.name)} of {ddl.qualified(self.schema, self.table)}"


@dataclass(frozen=True)
class Unit:
    statements: tuple[str, ...]
    block: bool                       # BEGIN … COMMIT: one transaction
    action: Action = Action.OTHER
    target: ObjectRef | None = None

    @property
    def text(self) -> str:
        """The unit as SQL that parses again (history and reports show this)."""
        return ";\n".join(self.statements)


def split(text: str, source: str = "script") -> list[str]:
    """The statements of a script, as the server's parser sees them."""
    try:
        return [s.strip() for s in pglast.split(text) if s.strip()]
    except pglast.parser.ParseError as exc:
        raise MigrationError(f"{source} is not valid SQL ({exc}): refusing to run any of it") from None


def units(stmts: list[str]) -> list[Unit]:
    """Group a script's statements: BEGIN … COMMIT blocks become one unit each."""
    out: list[Unit] = []
    block: list[str] | None = None
    for st in stmts:
        node = pglast.parse_sql(st)[0].stmt
        if isinstance(node, ast.TransactionStmt) and node.kind in (TransactionStmtKind.TRANS_STMT_BEGIN,
                                                                  TransactionStmtKind.TRANS_STMT_START):
            block = []
        elif isinstance(node, ast.TransactionStmt) and node.kind == TransactionStmtKind.TRANS_STMT_COMMIT:
            if block:
                out.append(_unit(block, True))
            block = None
        elif block is not None:
            block.append(st)
        else:
            out.append(_unit([st], False))
    if block:
        out.append(_unit(block, True))
    return out


def _unit(stmts: list[str], block: bool) -> Unit:
    for st in stmts:
        found = statement_object(st)
        if found is not None:
            return Unit(tuple(stmts), block, found[0], found[1])
    return Unit(tuple(stmts), block)


def statement_object(stmt: str) -> tuple[Action, ObjectRef] | None:
    """What one statement creates or drops, if it is one of the kinds pgtune emits."""
    node: Any = pglast.parse_sql(stmt)[0].stmt     # pglast's nodes are dynamic: read them as Any
    if isinstance(node, ast.IndexStmt) and node.idxname:
        rel: Any = node.relation
        return Action.CREATE, ObjectRef(ObjectKind.INDEX, rel.schemaname or "public", node.idxname)
    if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_INDEX and len(seq(node.objects)) == 1:
        parts = names(seq(node.objects)[0])
        schema, name = (parts[-2] if len(parts) > 1 else "public"), parts[-1]
        return Action.DROP, ObjectRef(ObjectKind.INDEX, schema, name)
    if isinstance(node, ast.ReindexStmt) and node.kind == ReindexObjectType.REINDEX_OBJECT_INDEX:
        rel = node.relation
        return Action.REBUILD, ObjectRef(ObjectKind.INDEX, rel.schemaname or "public", text(rel.relname))
    if isinstance(node, ast.AlterTableStmt):
        rel = node.relation
        schema, table = rel.schemaname or "public", text(rel.relname)
        cmd: Any
        for cmd in seq(node.cmds):
            if cmd.subtype == AlterTableType.AT_AddConstraint and getattr(cmd.def_, "conname", None):
                return Action.CREATE, ObjectRef(ObjectKind.CONSTRAINT, schema, cmd.def_.conname, table)
            if cmd.subtype == AlterTableType.AT_DropConstraint:
                return Action.DROP, ObjectRef(ObjectKind.CONSTRAINT, schema, cmd.name, table)
            if cmd.subtype == AlterTableType.AT_SetNotNull:
                return Action.CREATE, ObjectRef(ObjectKind.NOT_NULL, schema, cmd.name, table)
            if cmd.subtype == AlterTableType.AT_DropNotNull:
                return Action.DROP, ObjectRef(ObjectKind.NOT_NULL, schema, cmd.name, table)
    return None


def index_target(stmt: str) -> tuple[str, str] | None:
    """(schema, index name) for a CREATE INDEX statement, else None."""
    found = statement_object(stmt)
    if found and found[0] == Action.CREATE and found[1].kind == ObjectKind.INDEX:
        return found[1].schema, found[1].name
    return None
