"""Who made the indexes a finding names: a pgtune migration (pgtune.history), or the application's migrations.

An index pgtune built says so on its finding. And when the index a finding
would keep (the one a duplicate or overlapping index is dropped in favour of)
is pgtune's, dropping the other ties two migrations together: rolling back
the one that built the keeper would leave its lookups with no index at all,
so the finding says which to roll back first.

On a database a migration tool manages (its ledger table exists), every other
index is the application's migrations': a drop outside them is drift that
``prisma migrate dev`` builds again, and breaks the application's own later
migration that drops the index by name (u2's F6: umami's
17_remove_duplicate_key). Such a finding says so, and the migration health
writes leaves the drop out unless it is made through that tool.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from .. import catalog_sql, history
from ..capture import Catalog
from ..plan import Layout
from .checks import Declared
from .model import CheckId, Finding

# The checks whose fix drops the index the finding names.
DROP_CHECKS = (CheckId.UNUSED_INDEX, CheckId.DUPLICATE_INDEX, CheckId.OVERLAPPING_INDEX, CheckId.HOT_BLOCKING_INDEX)


@dataclass(frozen=True)
class BuiltBy:
    migration: str
    phase: int


@dataclass(frozen=True)
class Owner:
    """The migration tool whose ledger the database holds: the application's migrations own its indexes."""

    tool: str
    ledger: str            # schema-qualified ledger table, the evidence
    layout: Layout         # the layout that writes a migration the tool itself runs
    table: tuple[str, str] = ("", "")      # (schema, ledger table)


TOOLS = {"_prisma_migrations": ("Prisma Migrate", Layout.PRISMA),
         "flyway_schema_history": ("Flyway", Layout.FLYWAY),
         "schema_migrations": ("golang-migrate", Layout.GOLANG_MIGRATE)}


def tool_of(layout: Layout) -> str | None:
    """The migration tool a layout writes for (None: pgtune's own folder)."""
    return next((tool for tool, lay in TOOLS.values() if lay == layout), None)


def owner(catalog: Catalog) -> Owner | None:
    """The migration tool that manages this database, from its ledger table (Catalog.ledgers, the one reading of
    sql/migration_ledgers.sql that Catalog.prisma_managed answers from too)."""
    if not catalog.ledgers:
        return None
    schema, ledger = catalog.ledgers[0]    # _prisma_migrations sorts first: Prisma's ledger wins where several stand
    tool, layout = TOOLS[ledger]
    return Owner(tool, f"{schema}.{ledger}", layout, (schema, ledger))


def deployed(conn: psycopg.Connection[Any], tool: Owner | None) -> Owner | None:
    """``tool`` where its ledger records a migration; None where the ledger is empty (p28: an empty
    _prisma_migrations, and a detached partition's index read "the application's Prisma Migrate migrations made
    it"): the tool's table stands, but no migration of its ran, so it made no index."""
    if tool is None:
        return None
    query = sql.SQL("SELECT EXISTS (SELECT FROM {}.{}) /* pgtune */").format(*map(sql.Identifier, tool.table))
    try:
        with conn.transaction():
            row = conn.execute(query).fetchone()
    except psycopg.errors.InsufficientPrivilege:
        return tool               # unreadable: the table's word stands, as before
    return tool if row and row[0] else None


def built_by(conn: psycopg.Connection[Any], schema: str = history.DEFAULT_SCHEMA) -> dict[tuple[str, str], BuiltBy]:
    """(schema, index) → the pgtune migration that built it and has not rolled it back; empty without history."""
    if not history.exists(conn, schema):
        return {}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql.SQL(catalog_sql.load("health_built_by")).format(schema=sql.Identifier(schema)))
        return {(r["schema"], r["index"]): BuiltBy(r["migration_id"], int(r["phase"])) for r in cur.fetchall()}


def annotate(findings: Iterable[Finding], built: dict[tuple[str, str], BuiltBy], tool: Owner | None = None,
             declared: Declared | None = None) -> None:
    """Name on each finding the migration that built its index, and the migration its fix would tie it to.

    ``declared``: the index names the application's schema declares (--prisma-schema): one it does not declare
    is no migration's of the tool (p25: a DBA's duplicate "order_userid_date_dba" and an incident's
    "Order_userId_idx" read "the application's Prisma Migrate migrations made it": their drops were left out of
    pgtune's layout and the advice said to remove a schema line that does not exist).
    """
    for f in findings:
        mine = built.get((f.schema, f.index)) if f.index else None
        if mine is not None:
            f.built_by = mine.migration
            f.message += f" (built by pgtune migration {mine.migration})"
        elif tool is not None and f.index and f.check in DROP_CHECKS and f.fix and (
                declared is None or f.index in declared(f.schema, f.table or "")):
            f.evidence["owned_by"] = tool.tool
            # Without the schema, every index not pgtune's is taken for theirs: said as such (v37), not as a fact.
            made = ("the application's schema declares it" if declared is not None else
                    "taken for theirs: on a database they manage, an index not pgtune's is, unless --prisma-schema "
                    "says otherwise")
            f.message += (f" (the application's {tool.tool} migrations' index, {made}: drop it through them, "
                          f"{tool.ledger} is their ledger)")
        keeper = f.evidence.get("covered_by") or f.evidence.get("duplicate_of")
        theirs = built.get((f.schema, str(keeper))) if keeper else None
        if theirs is not None and f.fix:
            f.evidence["keeper_built_by"] = theirs.migration
            f.message += (f"; {keeper} was built by pgtune migration {theirs.migration}: once {f.index} is dropped, "
                          f"rolling {theirs.migration} back would leave these lookups with no index, so the two are "
                          "tied (roll back this drop first)")
