"""A migration written with ``--layout prisma``: Prisma runs it, and its ledger says how far it got.

Prisma Migrate deploys each folder and records it in ``_prisma_migrations``;
pgtune apply never runs these folders, so pgtune's history knows nothing of
them. Status reads a phase as applied when every folder of the phase is
applied there, failed when one is failed. What pgtune's own history says of
a phase (a rollback) comes first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from .. import catalog_sql
from ..connect import lost
from ..history import PhaseState
from ..plan import PLAN_DIR, folder_phases


def is_prisma_plan(directory: Path) -> bool:
    """Is ``directory`` the pgtune folder a Prisma-layout migration keeps in its first migration folder?"""
    directory = Path(directory)
    return directory.name == PLAN_DIR and (directory.parent / "migration.sql").exists()


def phase_states(conn: psycopg.Connection[Any], directory: Path, migration_id: str) -> dict[int, PhaseState]:
    """Each phase's state as Prisma's ledger has it (empty: not a Prisma-layout migration, or no ledger)."""
    if not is_prisma_plan(directory):
        return {}
    folders = folder_phases(Path(directory).parent.parent, migration_id)
    if not folders:
        return {}
    names = sorted(folders)
    rows: list[dict[str, Any]] = []
    with catalog_sql.uncompiled(conn), conn.cursor(row_factory=dict_row) as cur:
        ledgers = [r["schema"] for r in cur.execute(catalog_sql.load("migration_ledgers"))
                   if r["ledger"] == "_prisma_migrations"]
        for schema in ledgers:
            try:
                with conn.transaction():
                    rows = cur.execute(catalog_sql.compose("prisma_migration_states", ledger=sql.Identifier(
                        schema, "_prisma_migrations")), {"names": names}).fetchall()
            except psycopg.Error:
                if lost(conn):
                    raise
                continue              # a ledger this role may not read: another schema's may hold the rows
            if rows:
                break
    by_name = {r["name"]: r for r in rows}
    out: dict[int, PhaseState] = {}
    for name, phase in folders.items():
        r = by_name.get(name)
        state = (PhaseState.FAILED if r is not None and r["failed"] else
                 PhaseState.APPLIED if r is not None and r["applied"] else PhaseState.PENDING)
        known = out.get(phase)
        if known == PhaseState.FAILED or (known == PhaseState.PENDING and state == PhaseState.APPLIED):
            continue          # a phase is applied only when all its folders are; failed when any is
        out[phase] = state
    return out
