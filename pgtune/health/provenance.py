"""Which pgtune migration built the indexes a finding names (pgtune.history), and what that ties together.

An index pgtune built says so on its finding. And when the index a finding
would keep (the one a duplicate or overlapping index is dropped in favour of)
is pgtune's, dropping the other ties two migrations together: rolling back
the one that built the keeper would leave its lookups with no index at all,
so the finding says which to roll back first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from .. import catalog_sql, history
from .model import Finding


@dataclass(frozen=True)
class BuiltBy:
    migration: str
    phase: int


def built_by(conn: psycopg.Connection[Any], schema: str = history.DEFAULT_SCHEMA) -> dict[tuple[str, str], BuiltBy]:
    """(schema, index) → the pgtune migration that built it and has not rolled it back; empty without history."""
    if not history.exists(conn, schema):
        return {}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql.SQL(catalog_sql.load("health_built_by")).format(schema=sql.Identifier(schema)))
        return {(r["schema"], r["index"]): BuiltBy(r["migration_id"], int(r["phase"])) for r in cur.fetchall()}


def annotate(findings: Iterable[Finding], built: dict[tuple[str, str], BuiltBy]) -> None:
    """Name on each finding the migration that built its index, and the migration its fix would tie it to."""
    for f in findings:
        mine = built.get((f.schema, f.index)) if f.index else None
        if mine is not None:
            f.built_by = mine.migration
            f.message += f" (built by pgtune migration {mine.migration})"
        keeper = f.evidence.get("covered_by") or f.evidence.get("duplicate_of")
        theirs = built.get((f.schema, str(keeper))) if keeper else None
        if theirs is not None and f.fix:
            f.evidence["keeper_built_by"] = theirs.migration
            f.message += (f"; {keeper} was built by pgtune migration {theirs.migration}: once {f.index} is dropped, "
                          f"rolling {theirs.migration} back would leave these lookups with no index, so the two are "
                          "tied (roll back this drop first)")
