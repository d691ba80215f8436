"""What apply checks of the server before it changes anything: a primary, a session that may write, a
version whose concurrent builds are safe, and the CREATE privileges the phases need."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from ..errors import DatabaseError, ReadOnlyServer, UnsupportedServer
from ..plan import Action, Direction, Phase, PhaseStep, SettingScope

_SYSTEM = (SettingScope.RELOAD, SettingScope.RESTART)


def check_server(conn: psycopg.Connection[Any], phases: Sequence[Phase] = ()) -> None:
    check_version(conn.info.server_version)
    row = conn.execute("SELECT /* pgtune */ pg_catalog.pg_is_in_recovery()").fetchone()
    if row and row[0]:
        raise ReadOnlyServer(standby_refusal(phases))
    row = conn.execute("SELECT /* pgtune */ pg_catalog.current_setting('default_transaction_read_only')").fetchone()
    if row and row[0] == "on":
        # A primary, but this session may not write (the role's or the connection's setting): "run this on the
        # primary" would send the DBA looking for another server (u5).
        raise ReadOnlyServer("this session is read-only (default_transaction_read_only is on for this role or "
                             "connection): apply and rollback need a session that may write; connect as the "
                             "migration role, or set PGOPTIONS='-c default_transaction_read_only=off'")


def standby_refusal(phases: Sequence[Phase]) -> str:
    """Why apply/rollback changes nothing on a hot standby, and where the change goes instead.

    A standby's ALTER SYSTEM settings are its own (postgresql.auto.conf is not replicated): "on the primary"
    would change the primary's settings, not this server's (p22). pgtune cannot record its history here, so
    such phases are run by hand, where ALTER SYSTEM works."""
    system = [p.number for p in phases
              if p.step == PhaseStep.SETTINGS and any(s.scope in _SYSTEM for s in p.settings)]
    if not system:
        return ("this server is a hot standby (in recovery): it cannot build indexes or change constraints; "
                "apply and rollback on the primary")
    files = ", ".join(f"{n:02d}_up.sql" for n in system)
    return ("this server is a hot standby (in recovery): pgtune cannot record its history here, and the "
            "primary's ALTER SYSTEM would not change this server's settings, which are its own: run "
            f"{files} on this server by hand (psql -v ON_ERROR_STOP=1 -f; ALTER SYSTEM works on a standby, "
            "and the NN_down.sql scripts undo it)"
            + ("; role and table settings replicate from the primary: apply those there"
               if any(s.scope not in _SYSTEM for p in phases for s in p.settings) else ""))


def check_version(v: int) -> None:
    """Refuse concurrent builds where they can silently corrupt indexes."""
    if 140000 <= v < 140004:
        raise UnsupportedServer(
            f"PostgreSQL {v // 10000}.{v % 100} can corrupt indexes built CONCURRENTLY "
            "(fixed in 14.4): upgrade to 14.4 or later before applying")


def check_creates(conn: psycopg.Connection[Any], phases: Sequence[Phase], history_schema: str) -> None:
    """Refuse, before anything is made, a role that may not create what the phases' up scripts create: an index
    in a schema it lacks CREATE on failed at its phase, after the history schema was made (c24), with no GRANT
    named; with it CREATE on the database when the history schema is still to be made. One line, exit 2."""
    schemas = sorted({s.schema for p in phases for s in p.steps(Direction.UP)
                      if s.action == Action.CREATE and s.is_index})
    row = conn.execute(
        # By the schema's OID: has_schema_privilege's text form takes a name as it is, not quoted (a schema
        # 'we"ird schema' was looked up as '"we""ird schema"' and raised), and a missing one is NULL, not an error.
        "SELECT /* pgtune */ ARRAY(SELECT n FROM pg_catalog.unnest(%s::text[]) AS n WHERE NOT pg_catalog."
        "has_schema_privilege(pg_catalog.to_regnamespace(pg_catalog.quote_ident(n)), 'CREATE')), "
        "pg_catalog.to_regnamespace(pg_catalog.quote_ident(%s)) IS NULL "
        "AND NOT pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE')",
        (schemas, history_schema)).fetchone()
    if row is None or not row[0]:
        return      # the history schema alone: History.ensure says what to grant, and makes nothing either
    role = sql.Identifier(conn.info.user).as_string(conn)
    grants = [f"GRANT CREATE ON SCHEMA {sql.Identifier(n).as_string(conn)} TO {role}" for n in row[0]]
    if row[1]:
        grants.append(f"GRANT CREATE ON DATABASE {sql.Identifier(conn.info.dbname).as_string(conn)} TO {role} "
                      f"(pgtune keeps its history in schema {history_schema})")
    raise DatabaseError(f"permission denied for schema {', '.join(row[0])}: role {conn.info.user} may not create the "
                        f"phases' indexes there: {'; '.join(grants)} (the role must also own the tables), then "
                        "apply again; nothing was made", "42501").with_exit(2)
