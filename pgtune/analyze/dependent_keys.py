"""A proposal whose only key beyond an existing index's is a column the others determine serves nothing new.

The planner multiplies the selectivities of ``"runtimeEnvironmentId" = $1``
and ``"projectId" = $2`` as if the columns were independent. When the
environment decides the project, an index on (projectId, taskIdentifier,
runtimeEnvironmentId) looks 18-37x cheaper than the existing unique
(runtimeEnvironmentId, taskIdentifier, idempotencyKey) for the same lookup,
while both read the same rows: u11 measured the Trigger.dev-shaped lookup
slower with it (36 -> 67 ms). So after the selection, each b-tree proposal
whose keys are an existing valid b-tree's leading keys plus one column is
checked on a bounded, read-only sample of the table (TABLESAMPLE SYSTEM,
about SAMPLE_ROWS rows): where the other keys determine that column
(their distinct combinations gain no more than NEAR with it, and repeat
GROUP times on average: a near-unique "createdAt" determines anything), it is
withdrawn, and the hint names the columns and CREATE STATISTICS
(dependencies), which teaches the planner what the sample showed.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from .._text import error_text
from ..capture import Catalog, Index
from ..connect import lost
from .candidates import Origin
from .model import Advice, IndexSuggestion

SAMPLE_ROWS = 30_000        # rows the sample reads, about (whole pages: TABLESAMPLE SYSTEM)
NEAR = 1.05                 # distinct combinations with the column / without it: at most this, determined
GROUP = 5                   # the others' combinations must repeat (rows per combination, on average) to say
TIMEOUT_MS = 5_000          # the sample's statement_timeout: a slow sample decides nothing


def review(conn: psycopg.Connection[Any], catalog: Catalog, advice: Advice) -> None:
    """Withdraw each b-tree workload proposal an existing index serves as well but for a determined column."""
    for s in list(advice.indexes):
        if (s.origin != Origin.WORKLOAD or str(s.method) != "btree" or s.where or s.include
                or any(s.expressions or []) or len(s.columns) < 2):
            continue
        for existing in catalog.indexes_on((s.schema, s.table)):
            extra = _extra_column(s, existing)
            if extra is None:
                continue
            others = [c for c in s.columns if c != extra]
            if _determined(conn, catalog, s, others, extra):
                named = ", ".join(f'"{c}"' for c in others)
                advice.withdraw(s.name, (
                    f'{s.name} withdrawn: {existing.name} leads with the same keys but "{extra}", which {named} '
                    f"determine (a sample of the table): the planner took them as independent, so the gain it "
                    f'credited is not there; CREATE STATISTICS (dependencies) ON "{extra}", {named} FROM '
                    f'{s.schema}."{s.table}" (then ANALYZE) tells it'))
                break


def _extra_column(s: IndexSuggestion, existing: Index) -> str | None:
    """The one key of ``s`` not among ``existing``'s leading keys, when the rest are those keys (any order)."""
    if not existing.is_valid or existing.method != "btree" or existing.predicate:
        return None
    lead = existing.columns[:len(s.columns) - 1]
    if len(lead) != len(s.columns) - 1 or None in lead:
        return None
    extra = [c for c in s.columns if c not in lead]
    return extra[0] if len(extra) == 1 and set(lead) <= set(s.columns) else None


def _determined(conn: psycopg.Connection[Any], catalog: Catalog, s: IndexSuggestion, others: list[str],
                extra: str) -> bool:
    """Do ``others`` determine ``extra`` in a sample of the table (False when the sample cannot say)?"""
    table = catalog.tables.get((s.schema, s.table))
    rows = table.reltuples if table is not None else -1
    share = min(1.0, SAMPLE_ROWS / rows) if rows > 0 else 1.0
    sampling = sql.SQL(" TABLESAMPLE SYSTEM ({}) REPEATABLE (7)").format(sql.Literal(round(share * 100, 4))) \
        if share < 1.0 else sql.SQL("")
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in others)
    query = sql.SQL("SELECT /* pgtune */ count(DISTINCT ROW({cols})), count(DISTINCT ROW({cols}, {extra})), "
                    "count(*) FROM {table}{sampling}").format(cols=cols, extra=sql.Identifier(extra),
                                                     table=sql.Identifier(s.schema, s.table), sampling=sampling)
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("SET /* pgtune */ TRANSACTION READ ONLY")
            conn.execute(sql.SQL("SET /* pgtune */ LOCAL statement_timeout = {}").format(sql.Literal(TIMEOUT_MS)))
            row = conn.execute(query).fetchone()
    except psycopg.Error as exc:
        if lost(conn):
            raise
        s.reason = f"{s.reason}; whether its keys depend on one another is unknown ({error_text(exc)})"
        return False
    if row is None or not row[0] or row[0] < 2 or row[0] * GROUP > row[2]:
        return False        # near-unique others (a timestamp among them) determine any column: no evidence
    return bool(row[1] <= NEAR * row[0])
