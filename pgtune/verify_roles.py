"""Targets verify may not plan as the role emit planned them under, and the line that says what to grant.

A statement under row security is planned at emit as the application's role (SET LOCAL ROLE): the
planner then adds its policies' filters. verify runs where the migration was applied, often as the
tables' owner, which need not be a member of that role (u13, Papermark). Planned as the owner, the
statement would be planned without the policies, a plan that cannot be compared with the baseline; the
SET ROLE itself fails. Such a target is reported not checked, with the GRANT that lets verify check it,
rather than failed as if the migration had made it slower.
"""

from __future__ import annotations

from typing import Any

import psycopg

from . import catalog_sql, ddl


class RoleCheck:
    """Per role, whether this session may take it (asked once per role)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.known: dict[str, bool | None] = {}

    def why_not(self, role: str | None) -> str:
        """'' when the target can be planned as ``role`` (or has none), else why not and what to grant."""
        if role is None:
            return ""
        if role not in self.known:
            with catalog_sql.uncompiled(self.conn):
                row = self.conn.execute(catalog_sql.load("role_settable"), {"role": role}).fetchone()
            self.known[role] = None if row is None else bool(row[0])
        can = self.known[role]
        if can:
            return ""
        me = self.conn.info.user      # the login: the role a GRANT must name for SET ROLE to be allowed
        if can is None:
            return (f"not checked: emit planned it as role {role} (its row security), which no longer exists")
        return (f"not checked: emit planned it as role {role} (its row security) and {me} may not SET ROLE "
                f"{role}: GRANT {ddl.name(role)} TO {ddl.name(me)};")
