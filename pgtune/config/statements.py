"""The statements that change a setting and put it back, built as pglast nodes and printed by pglast.

Role, database, schema, table and setting names come from the catalog; the
printer quotes them exactly when needed, and every value is a string
constant, so nothing read from the server is pasted into SQL.
"""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType, ObjectType, RoleSpecType, VariableSetKind
from pglast.stream import RawStream

from .. import ddl

LIST_SETTINGS = frozenset({"shared_preload_libraries", "session_preload_libraries", "local_preload_libraries",
                           "search_path"})


def _print(node: ast.Node) -> str:
    return str(RawStream()(node))


def _set(name: str, value: str | None) -> ast.VariableSetStmt:
    if value is None:
        return ast.VariableSetStmt(kind=VariableSetKind.VAR_RESET, name=name, is_local=False)
    # A list as PostgreSQL splits it: a quoted name keeps its commas (m10), a constant each.
    parts = ddl.setting_list(value) if name in LIST_SETTINGS else [value]
    args = tuple(ast.A_Const(isnull=False, val=ast.String(sval=v)) for v in parts if v)
    return ast.VariableSetStmt(kind=VariableSetKind.VAR_SET_VALUE, name=name, args=args, is_local=False)


def alter_system(name: str, value: str | None) -> str:
    """``ALTER SYSTEM SET name TO 'value'``, or ``ALTER SYSTEM RESET name`` for None."""
    return _print(ast.AlterSystemStmt(setstmt=_set(name, value)))


def alter_role(role: str, database: str | None, name: str, value: str | None) -> str:
    """``ALTER ROLE r [IN DATABASE d] SET name TO 'value'``, or ``… RESET name`` for None."""
    spec = ast.RoleSpec(roletype=RoleSpecType.ROLESPEC_CSTRING, rolename=role)
    return _print(ast.AlterRoleSetStmt(role=spec, database=database, setstmt=_set(name, value)))


def alter_table(schema: str, table: str, name: str, value: str | None) -> str:
    """``ALTER TABLE s.t SET (name = value)``, or ``… RESET (name)`` for None."""
    rel = ast.RangeVar(schemaname=schema, relname=table, inh=True, relpersistence="p")
    arg = None if value is None else ast.String(sval=value)
    cmd = ast.AlterTableCmd(subtype=AlterTableType.AT_ResetRelOptions if value is None
                            else AlterTableType.AT_SetRelOptions,
                            def_=(ast.DefElem(defname=name, arg=arg),))
    return _print(ast.AlterTableStmt(relation=rel, cmds=(cmd,), objtype=ObjectType.OBJECT_TABLE))
