"""How each application role sees the database: its search_path and the row security policies it is under.

pg_stat_statements records the role that ran each statement (``userid``).
That role resolved the statement's unqualified names through its own
search_path (``ALTER ROLE … IN DATABASE … SET search_path``), not pgtune's,
and read its tables through the row security policies that apply to it
(unless it is a superuser, has BYPASSRLS, or owns the table without FORCE).
A statement is analyzed and planned as its role saw it. An application may
set its path per session instead (Prisma's ``?schema=umami`` sends ``SET
search_path TO "umami"``): pg_stat_statements keeps that SET under the same
userid, and it wins over the configured one, as it does in the session.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pglast
import psycopg
from pglast import ast
from psycopg.rows import dict_row

from . import catalog_sql
from .sqltext import StatementKind

TableKey = tuple[str, str]
PUBLIC = 0      # pg_policy.polroles: the policy applies to every role


class PolicyCommand(StrEnum):
    """pg_policy.polcmd: the command a policy applies to."""

    ALL = "*"
    SELECT = "r"
    INSERT = "a"
    UPDATE = "w"
    DELETE = "d"


# The policies whose USING filters a statement of each kind (UPDATE and DELETE read rows as SELECT does).
_FILTERS = {StatementKind.SELECT: {PolicyCommand.ALL, PolicyCommand.SELECT},
            StatementKind.UPDATE: {PolicyCommand.ALL, PolicyCommand.SELECT, PolicyCommand.UPDATE},
            StatementKind.DELETE: {PolicyCommand.ALL, PolicyCommand.SELECT, PolicyCommand.DELETE}}


@dataclass(frozen=True)
class Policy:
    name: str
    command: PolicyCommand
    permissive: bool
    roles: frozenset[int]           # PUBLIC (0) or role oids
    using: str | None               # the USING expression, names schema-qualified


@dataclass(frozen=True)
class ProtectedTable:
    """A table under row security (relrowsecurity) and its policies."""

    key: TableKey
    force: bool                     # FORCE ROW LEVEL SECURITY: its owner is bound too
    owner: int
    policies: tuple[Policy, ...] = ()


@dataclass(frozen=True)
class Role:
    oid: int
    name: str
    superuser: bool = False
    bypassrls: bool = False
    setting: str | None = None                       # its search_path setting, as configured (None: the server's)
    search_path: tuple[str, ...] = ()                # the schemas its unqualified names resolve in, in order
    member_of: frozenset[int] = frozenset()          # roles it is a member of (itself included)
    privileges_of: frozenset[int] = frozenset()      # roles whose privileges it has (an owner's: bypasses RLS)
    can_set: bool = False                            # pgtune's session may SET ROLE to it
    session_set: str | None = None                   # the SET search_path its sessions send (pg_stat_statements)
    session_unread: str | None = None                # such a SET whose value it did not keep (TO $1: 18)
    usable: frozenset[str] = frozenset()             # the schemas it may use (USAGE)
    found_schema: str | None = None                  # added to its path: the one schema holding its tables
    session_paths: tuple[str, ...] = ()              # every SET search_path its sessions send, most-called first


@dataclass(frozen=True)
class RowFilter:
    """What row security adds to a statement on one table for one role: AND-ed expressions."""

    table: TableKey
    expressions: tuple[str, ...]    # permissive USINGs OR-ed into one, then each restrictive USING
    policies: tuple[str, ...]       # the policies' names
    denies: bool = False            # no permissive policy applies: the role sees no row


@dataclass(frozen=True)
class RoleView:
    """One role's view: where its names resolve, and the row filters its statements get."""

    role: Role | None                                # None: pgtune's own session
    search_path: tuple[str, ...]
    protected: dict[TableKey, ProtectedTable] = field(default_factory=dict, compare=False)

    def row_filter(self, table: TableKey, kind: StatementKind) -> RowFilter | None:
        """The filter row security puts on a ``kind`` statement (select, update, delete) reading ``table``."""
        prot = self.protected.get(table)
        if prot is None or self.role is None or bypasses(self.role, prot):
            return None
        commands = _FILTERS.get(kind)
        if commands is None:
            return None
        applying = [p for p in prot.policies if p.command in commands
                    and (PUBLIC in p.roles or p.roles & self.role.member_of)]
        permissive = [p for p in applying if p.permissive and p.using]
        restrictive = [p.using for p in applying if not p.permissive and p.using and p.using != "true"]
        if not permissive:
            return RowFilter(table, (), tuple(p.name for p in applying), denies=True)
        if any(p.using == "true" for p in permissive):
            # USING (true) OR-ed in: the permissive side keeps every row; only a restrictive policy filters.
            if not restrictive:
                return None
            return RowFilter(table, tuple(restrictive), tuple(p.name for p in applying if not p.permissive))
        either = " OR ".join(f"({p.using})" for p in permissive) if len(permissive) > 1 else permissive[0].using
        assert either is not None
        return RowFilter(table, (either, *restrictive), tuple(p.name for p in applying))


def bypasses(role: Role, table: ProtectedTable) -> bool:
    """Row security does not apply: a superuser, BYPASSRLS, or the table's owner (unless FORCE)."""
    return role.superuser or role.bypassrls or (not table.force and table.owner in role.privileges_of)


@dataclass
class Roles:
    """The workload's roles, the server's default search_path, and the tables under row security."""

    roles: dict[int, Role] = field(default_factory=dict)
    protected: dict[TableKey, ProtectedTable] = field(default_factory=dict)
    session_path: tuple[str, ...] = ("public",)     # pgtune's own session's (current_schemas)
    session_role: str = ""                          # pgtune's session user (who may SET ROLE)
    # a schema per tenant (capture.tenant_paths): the path a statement's queryid says it ran under, or why
    # none could be told
    placed: dict[int, tuple[str, ...]] = field(default_factory=dict)
    unplaced: dict[int, str] = field(default_factory=dict)

    def view(self, userid: int | None, queryid: int | None = None) -> RoleView:
        role = self.roles.get(userid) if userid is not None else None
        if role is None:
            return RoleView(None, self.session_path, self.protected)
        path = self.placed.get(queryid) if queryid is not None else None
        return RoleView(role, path if path is not None else role.search_path, self.protected)

    def by_name(self, name: str) -> Role | None:
        return next((r for r in self.roles.values() if r.name == name), None)


def split_search_path(setting: str) -> list[str]:
    """The schema names of a search_path setting, as the server splits it (SplitIdentifierString).

    ``app, "Billing", public`` → ``app``, ``Billing``, ``public``: a quoted
    name keeps its case (``""`` is a quote), an unquoted one is folded to
    lower case; ``$user`` stays as written.
    """
    out: list[str] = []
    i, n = 0, len(setting)
    while i < n:
        while i < n and (setting[i].isspace() or setting[i] == ","):
            i += 1
        if i >= n:
            break
        if setting[i] == '"':
            name, i = [], i + 1
            while i < n:
                if setting[i] == '"':
                    if i + 1 < n and setting[i + 1] == '"':
                        name.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                name.append(setting[i])
                i += 1
            out.append("".join(name))
        else:
            start = i
            while i < n and setting[i] != "," and not setting[i].isspace():
                i += 1
            word = setting[start:i]
            out.append(word if word == "$user" else word.lower())
    return out


def resolve_path(setting: str, role_name: str, usable: Iterable[str]) -> tuple[str, ...]:
    """The schemas a role's names resolve in: ``$user`` is its name; a schema it may not use, or
    that does not exist, is skipped (as the server does)."""
    ok = set(usable)
    out: list[str] = []
    for name in split_search_path(setting):
        schema = role_name if name == "$user" else name
        if schema in ok and schema not in out and schema != "pg_catalog":
            out.append(schema)
    return tuple(out)


def role_oid(conn: psycopg.Connection[Any], name: str) -> int | None:
    """The oid of the role called ``name``; None when there is none."""
    row = conn.execute("SELECT /* pgtune */ oid::int8 FROM pg_catalog.pg_roles WHERE rolname = %s", (name,)).fetchone()
    return int(row[0]) if row else None


def read_session_paths(conn: psycopg.Connection[Any], database: str | None,
                       every: dict[int, list[str]] | None = None) -> dict[int, tuple[str | None, str]]:
    """Per userid, (the search_path setting, the statement) of its most-called ``SET search_path`` in
    pg_stat_statements; the setting is None where the server kept no value (``TO $1``, PostgreSQL 18).
    ``every``: filled with each userid's distinct settings, most-called first (a schema per tenant)."""
    out: dict[int, tuple[str | None, str]] = {}
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(catalog_sql.load("session_search_paths"), {"database": database}).fetchall()
    except psycopg.errors.Error:
        return out
    for r in rows:
        setting = set_search_path(r["query"])
        if setting is not None or _value_not_kept(r["query"]):
            out.setdefault(int(r["userid"]), (setting, r["query"]))
        if setting is not None and every is not None and setting not in every.setdefault(int(r["userid"]), []):
            every[int(r["userid"])].append(setting)
    return out


def _value_not_kept(text: str) -> bool:
    """Is ``text`` a session's SET search_path whose value pg_stat_statements replaced by a $n?"""
    try:
        stmts = pglast.parse_sql(text)
    except pglast.parser.ParseError:
        return False
    node = stmts[0].stmt if len(stmts) == 1 else None
    return (isinstance(node, ast.VariableSetStmt) and node.name == "search_path" and not node.is_local
            and any(isinstance(a, ast.ParamRef) for a in node.args or ()))


def set_search_path(text: str) -> str | None:
    """The setting a ``SET [SESSION] search_path TO a, "B"`` gives, as the server would store it; None if none."""
    try:
        stmts = pglast.parse_sql(text)
    except pglast.parser.ParseError:
        return None
    node = stmts[0].stmt if len(stmts) == 1 else None
    if not isinstance(node, ast.VariableSetStmt) or node.name != "search_path" or node.is_local or not node.args:
        return None
    names = []
    for arg in node.args:
        if not (isinstance(arg, ast.A_Const) and isinstance(arg.val, ast.String)) or arg.val.sval is None:
            return None
        names.append(arg.val.sval if arg.val.sval == "$user" else '"' + arg.val.sval.replace('"', '""') + '"')
    return ", ".join(names)


def read_roles(conn: psycopg.Connection[Any], userids: Iterable[int], session_path: tuple[str, ...], *,
               database: str | None = None, sessions: bool = True) -> Roles:
    """The given roles' views of the connected database, and its tables under row security: the one builder
    suggest, health's guards and the HOT reading share. ``sessions``: the search_path a role's sessions SET
    (read_session_paths, in ``database``'s pg_stat_statements) wins over its configured one (u2's F8)."""
    out = Roles(session_path=session_path)
    every: dict[int, list[str]] = {}
    set_paths = read_session_paths(conn, database, every) if sessions else {}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(catalog_sql.load("server_search_path"))
        default = cur.fetchone()
        server_path = default["search_path"] if default else '"$user", public'
        out.session_role = default["session_role"] if default else ""
        cur.execute(catalog_sql.load("role_settings"), {"roles": sorted(set(userids))})
        for r in cur.fetchall():
            setting = r["search_path"]
            session = set_paths.get(int(r["oid"]))
            unread = session[1] if session is not None and session[0] is None else None
            if session is not None and session[0] is not None:
                setting = session[0]
            else:
                session = None
            out.roles[int(r["oid"])] = Role(
                oid=int(r["oid"]), name=r["name"], superuser=r["superuser"], bypassrls=r["bypassrls"],
                setting=setting, search_path=resolve_path(setting if setting is not None else server_path,
                                                          r["name"], r["schemas"]),
                member_of=frozenset(int(m) for m in r["member_of"]),
                privileges_of=frozenset(int(m) for m in r["privileges_of"]), can_set=bool(r["can_set"]),
                session_set=session[1] if session is not None else None, session_unread=unread,
                usable=frozenset(r["schemas"]), session_paths=tuple(every.get(int(r["oid"]), ())))
    out.protected = read_protected(conn)
    return out


def read_protected(conn: psycopg.Connection[Any]) -> dict[TableKey, ProtectedTable]:
    """Tables under row security and their policies, USING expressions with every name schema-qualified.

    pg_get_expr qualifies a name only where this session's search_path would
    not find it; with an empty one every name comes out qualified, so the
    expression means the same whichever role's path it is read with.
    """
    found: dict[TableKey, ProtectedTable] = {}
    # Rolled back: the empty search_path never outlives the read, even inside a caller's transaction.
    with conn.transaction(force_rollback=True), conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT /* pgtune */ pg_catalog.set_config('search_path', '', true)")
        cur.execute(catalog_sql.load("row_security_policies"))
        rows = cur.fetchall()
    policies: dict[TableKey, list[Policy]] = {}
    for r in rows:
        key = (r["schema"], r["table"])
        found.setdefault(key, ProtectedTable(key, r["force"], int(r["owner"])))
        if r["name"] is not None:
            policies.setdefault(key, []).append(Policy(
                r["name"], PolicyCommand(r["command"]), r["permissive"], frozenset(int(x) for x in r["roles"]),
                r["using_expr"]))
    return {k: ProtectedTable(t.key, t.force, t.owner, tuple(policies.get(k, ()))) for k, t in found.items()}


def why_no_temporary(conn: psycopg.Connection[Any]) -> str | None:
    """Why this session may not create a temporary object now (a standby, READ ONLY, no TEMPORARY), or None.

    Asked instead of trying: each refused CREATE (or DROP, in a read-only
    transaction) is an ERROR line in the server's log that the DBA's alerting reads.
    """
    row = conn.execute(catalog_sql.load("temporary_refused")).fetchone()
    return str(row[0]) if row is not None and row[0] is not None else None


class NoTemporary(Exception):
    """This session may not create a temporary object (a standby, a READ ONLY transaction, no TEMPORARY)."""


@contextmanager
def rolled_back(conn: psycopg.Connection[Any], lock_timeout: str) -> Iterator[None]:
    """A transaction (a savepoint inside one) that is always rolled back, under ``lock_timeout``, to make and read
    a temporary object in: nothing is left behind, and nothing waits on a lock for long.

    Raises NoTemporary before any CREATE is sent when the session may not make one: on a standby, in a READ ONLY
    session or without the TEMPORARY privilege a CREATE is refused, and each refusal is an ERROR in the server's log
    that the DBA's alerting reads. Errors inside propagate to the caller (a lock timeout to be retried, or not).
    """
    with conn.transaction(force_rollback=True):
        conn.execute("SELECT /* pgtune */ pg_catalog.set_config('lock_timeout', %s, true)", (lock_timeout,))
        refused = why_no_temporary(conn)
        if refused is not None:
            raise NoTemporary(refused)
        yield
