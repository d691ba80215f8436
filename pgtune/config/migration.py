"""The proposals as a migration, phased by how settings take effect, each step knowing what it replaces.

Phase order: role- and table-scoped settings (the narrowest, in force for new
sessions or at once), then server settings a reload applies (ALTER SYSTEM +
pg_reload_conf()), then server settings that need a restart (written with
ALTER SYSTEM, pending until someone restarts: pgtune never does). Each
setting records what its object held at emit — the postgresql.auto.conf
entry, the role's own setting in the database, the table's storage
parameter — and the down script restores exactly that (RESET when it held
none). Before apply and rollback the objects are read again: a setting
someone else changed since is refused, never overwritten.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from .. import catalog_sql, ddl
from ..apply import SettingState, SettingStatus
from ..errors import ApplyFailed, PgtuneError
from ..plan import Direction, Migration, Phase, PhaseStep, PlannedSetting, SettingScope
from . import statements
from .evidence import options, rows
from .model import ConfigReport, Proposal, Scope

PHASES = {
    SettingScope.ROLE: ("role and table settings", "the narrowest scope first: a role's new sessions and one "
                        "table's storage parameters; nothing server-wide changes"),
    SettingScope.RELOAD: ("server settings a reload applies", "ALTER SYSTEM writes postgresql.auto.conf and "
                          "pg_reload_conf() puts them in force for every session, without a restart"),
    SettingScope.RESTART: ("server settings that need a restart", "written with ALTER SYSTEM and listed as pending "
                           "(pg_settings.pending_restart): in force after a restart you schedule; pgtune never "
                           "restarts the server"),
}


class BudgetRefused(PgtuneError):
    """The set of settings could run the server out of memory: nothing is written."""

    exit_code = 1


def auto_conf(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """What postgresql.auto.conf holds now, per setting."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(catalog_sql.load("config_auto_conf"))
        return {r["name"]: r["setting"] for r in cur.fetchall()}


def _planned(p: Proposal, auto: dict[str, str]) -> PlannedSetting:
    common: dict[str, Any] = {"reason": p.why, "symptom": str(p.symptom), "evidence": p.evidence}
    if p.scope == Scope.ROLE:
        assert p.role is not None
        return PlannedSetting(p.scope, p.setting, p.value, p.current, str(p.evidence.get(f"{p.setting} (server)", "")),
                              p.source, statements.alter_role(p.role, p.database, p.setting, p.value),
                              statements.alter_role(p.role, p.database, p.setting, p.current),
                              role=p.role, database=p.database, **common)
    if p.scope == Scope.TABLE:
        assert p.schema is not None and p.table is not None
        return PlannedSetting(p.scope, p.setting, p.value, p.current, p.current or "not set", p.source,
                              statements.alter_table(p.schema, p.table, p.setting, p.value),
                              statements.alter_table(p.schema, p.table, p.setting, p.current),
                              schema=p.schema, table=p.table, **common)
    before = auto.get(p.setting)
    return PlannedSetting(p.scope, p.setting, p.value, before, p.current or "", p.source,
                          statements.alter_system(p.setting, p.value), statements.alter_system(p.setting, before),
                          **common)


def build(conn: psycopg.Connection[Any], report: ConfigReport, *, lock_timeout: str = "5s",
          statement_timeout: str = "1min", now: datetime | None = None) -> Migration:
    """The migration for ``report``'s proposals; refused when the memory budget refuses the set."""
    if report.budget is not None and not report.budget.ok:
        raise BudgetRefused(f"refused: {report.budget.message}")
    chosen = [p for p in report.proposals
              if report.alter_system or p.scope in (Scope.ROLE, Scope.TABLE)]
    auto = auto_conf(conn) if any(p.scope in (Scope.RELOAD, Scope.RESTART) for p in chosen) else {}
    phases: list[Phase] = []
    for scopes in ((Scope.ROLE, Scope.TABLE), (Scope.RELOAD,), (Scope.RESTART,)):
        settings = [_planned(p, auto) for p in chosen if p.scope in scopes]
        if settings:
            name, reason = PHASES[scopes[0]]
            phases.append(Phase(len(phases) + 1, name, reason, step=PhaseStep.SETTINGS, settings=settings))
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    return Migration(id=f"{stamp}_config", created=stamp, server_version=report.server_version, phases=phases,
                     lock_timeout=lock_timeout, statement_timeout=statement_timeout)


PLATFORM_FILE = "platform-changes.sh"


def write_platform(report: ConfigReport, folder: Path) -> Path | None:
    """The server-wide proposals this role may not ALTER SYSTEM, as the platform's own commands, written beside
    the migration for a person to run (apply never runs them); each preceded by what it changes and why."""
    if not report.platform_changes:
        return None
    server = [p for p in report.proposals if p.scope in (Scope.RELOAD, Scope.RESTART)]
    lines = ["#!/bin/sh",
             f"# pgtune config: the server-wide settings as {report.platform}'s own commands. This role may not run",
             "# ALTER SYSTEM, so they are not in the migration and pgtune apply does not run this file: fill in the",
             "# <placeholders> and run it yourself (then `pgtune config` again shows whether the symptoms are gone).",
             "exit 1  # remove this line once the placeholders are filled in", ""]
    for p in server:
        when = "a restart" if p.scope == Scope.RESTART else "a reload"
        lines.append("# " + ddl.comment(f"{p.setting}: {p.current if p.current is not None else '-'} -> {p.value} "
                                        f"(in force after {when}): {p.why}"))
    lines += ["", *report.platform_changes, ""]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PLATFORM_FILE
    path.write_bytes("\n".join(lines).encode())
    return path


def target(s: PlannedSetting) -> str:
    if s.scope == SettingScope.ROLE:
        return f"role {s.role} in {s.database}"
    if s.scope == SettingScope.TABLE:
        return f"table {s.schema}.{s.table}"
    return "server"


def _objects(conn: psycopg.Connection[Any], server: bool
             ) -> tuple[dict[str, str], dict[tuple[str | None, str | None], dict[str, str]],
                        dict[tuple[str, str], dict[str, str]], dict[str, tuple[str, bool]]]:
    """What the migration's objects hold now; postgresql.auto.conf (superuser-only) only when it has
    server settings."""
    auto = auto_conf(conn) if server else {}
    roles = {(r["role"], r["database"]): options(r["settings"] or []) for r in rows(conn, "config_role_settings")}
    version = conn.info.server_version
    tables = {(r["schema"], r["table"]): options(r["reloptions"])
              for r in rows(conn, "config_tables_16" if version >= 160000 else "config_tables")}
    settings = {r["name"]: (r["shown"], bool(r["pending_restart"])) for r in rows(conn, "config_settings")}
    return auto, roles, tables, settings


def states(conn: psycopg.Connection[Any], m: Migration) -> list[SettingStatus]:
    """Each setting of the migration: what its object holds now, and whether that is pgtune's doing."""
    server = any(s.scope in (SettingScope.RELOAD, SettingScope.RESTART) for p in m.phases for s in p.settings)
    auto, roles, tables, settings = _objects(conn, server)
    out = []
    for phase in m.phases:
        for s in phase.settings:
            if s.scope == SettingScope.ROLE:
                now = roles.get((s.role, s.database), {}).get(s.name)
            elif s.scope == SettingScope.TABLE:
                now = tables.get((s.schema or "", s.table or ""), {}).get(s.name)
            else:
                now = auto.get(s.name)
            state = (SettingState.APPLIED if now == s.value else
                     SettingState.AS_EMITTED if now == s.before else SettingState.CHANGED)
            shown, pending = settings.get(s.name, (None, False))
            out.append(SettingStatus(phase.number, s.scope, s.name, target(s), s.before, s.value, now, state,
                                     shown if s.scope in (SettingScope.RELOAD, SettingScope.RESTART) else None,
                                     pending and s.scope in (SettingScope.RELOAD, SettingScope.RESTART)))
    return out


def guard(conn: psycopg.Connection[Any], m: Migration, phases: list[int] | None, direction: Direction) -> None:
    """Refuse to apply or roll back over a setting someone else changed since emit."""
    changed = [st for st in states(conn, m) if st.state == SettingState.CHANGED
               and (phases is None or st.phase in phases)]
    if changed:
        what = "; ".join(f"{st.name} on {st.target} is {st.now!r} (was {st.before!r} at emit, pgtune sets "
                         f"{st.value!r})" for st in changed[:5])
        verb = "apply" if direction == Direction.UP else "roll back"
        raise ApplyFailed(f"refusing to {verb}: changed by someone else "
                          f"since emit: {what}; re-run pgtune config --emit")
