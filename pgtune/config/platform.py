"""Managed platforms: which one the server is, told from what it shows, and how settings change there.

A managed server refuses ALTER SYSTEM (no superuser) and takes its
server-wide settings from the provider's own parameter store: an RDS or
Aurora parameter group, Cloud SQL flags, Azure server parameters, Neon's
compute settings, Supabase's CLI. Role- and table-level settings (ALTER
ROLE … SET, ALTER TABLE … SET) work everywhere, so pgtune's migration keeps
those and writes the server-wide changes as the platform's own commands.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import psycopg
from psycopg.rows import dict_row

from .. import catalog_sql
from ..ddl import comment
from .model import Proposal, Scope


class Platform(StrEnum):
    SELF_MANAGED = "self-managed"
    RDS = "rds"
    AURORA = "aurora"
    CLOUD_SQL = "cloud-sql"
    AZURE = "azure"
    NEON = "neon"
    SUPABASE = "supabase"


@dataclass(frozen=True)
class Server:
    platform: Platform
    superuser: bool
    backend_pid: int
    signs: tuple[str, ...]            # the settings and roles that gave the platform away


def detect(conn: psycopg.Connection[Any]) -> Server:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(catalog_sql.load("config_platform"))
        row = cur.fetchone()
    assert row is not None
    settings: list[str] = row["settings"] or []
    roles: list[str] = row["roles"] or []
    return Server(classify(settings, roles), bool(row["superuser"]), int(row["backend_pid"]),
                  tuple(settings[:5] + roles))


def classify(settings: list[str], roles: list[str]) -> Platform:
    """The platform whose own settings (rds.force_ssl, cloudsql.iam_authentication, …) or roles the server has."""
    prefixes = {s.split(".")[0].split("_")[0] for s in settings}
    platform = Platform.SELF_MANAGED
    if "supabase_admin" in roles or "supautils" in prefixes:
        platform = Platform.SUPABASE
    elif "neon" in prefixes or "neon_superuser" in roles:
        platform = Platform.NEON
    elif "apg" in prefixes or "aurora" in prefixes:
        platform = Platform.AURORA
    elif "rds" in prefixes or "rds_superuser" in roles:
        platform = Platform.RDS
    elif "cloudsql" in prefixes or "cloudsqlsuperuser" in roles:
        platform = Platform.CLOUD_SQL
    elif "azure" in prefixes or "azure_pg_admin" in roles:
        platform = Platform.AZURE
    return platform


def _rds_value(p: Proposal, unit_kb: bool) -> str:
    """RDS parameter groups take memory settings as a bare number in the setting's own unit."""
    from .units import parse_size
    if unit_kb and p.value[-2:] in ("kB", "MB", "GB", "TB"):
        return str(parse_size(p.value) // 1024)
    return p.value


def changes(platform: Platform, proposals: list[Proposal], units: dict[str, str | None]) -> list[str]:
    """The server-wide proposals as the platform's own commands (text a person runs; pgtune runs none)."""
    server = [p for p in proposals if p.scope in (Scope.RELOAD, Scope.RESTART)]
    if not server or platform == Platform.SELF_MANAGED:
        return []
    out: list[str] = []
    if platform in (Platform.RDS, Platform.AURORA):
        group = "<your-parameter-group>" if platform == Platform.RDS else "<your-cluster-or-instance-parameter-group>"
        for p in server:
            method = "pending-reboot" if p.scope == Scope.RESTART else "immediate"
            value = _rds_value(p, units.get(p.setting) == "kB")
            param = shlex.quote(f"ParameterName={p.setting},ParameterValue={value},ApplyMethod={method}")
            out.append(f"aws rds modify-db-{'cluster-' if platform == Platform.AURORA else ''}parameter-group "
                       f"--db-{'cluster-' if platform == Platform.AURORA else ''}parameter-group-name {group} "
                       f"--parameters {param}")
        if any(p.scope == Scope.RESTART for p in server):
            out.append("# pending-reboot parameters take effect at the instance's next reboot "
                       "(aws rds reboot-db-instance)")
    elif platform == Platform.CLOUD_SQL:
        flags = shlex.quote(",".join(f"{p.setting}={p.value}" for p in server))
        out.append("# gcloud replaces the whole flag list: repeat the flags already set on the instance")
        out.append(f"gcloud sql instances patch <instance> --database-flags={flags}")
    elif platform == Platform.AZURE:
        out += [f"az postgres flexible-server parameter set --resource-group <group> --server-name <server> "
                f"--name {shlex.quote(p.setting)} --value {shlex.quote(p.value)}" for p in server]
        if any(p.scope == Scope.RESTART for p in server):
            out.append("az postgres flexible-server restart --resource-group <group> --name <server>")
    elif platform == Platform.SUPABASE:
        flags = shlex.quote(",".join(f"{p.setting}={p.value}" for p in server))
        out.append(f"supabase --experimental --project-ref <project> postgres-config update --config {flags}")
    elif platform == Platform.NEON:
        out.append("# Neon sizes memory settings with the compute: change the compute size, or set "
                   "these per role or database (ALTER ROLE/DATABASE … SET) where the setting allows it")
        out += ["#   " + comment(f"{p.setting} = {p.value}") for p in server]
    return out
