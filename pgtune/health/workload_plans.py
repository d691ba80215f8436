"""Which statements of the workload plan with given indexes: before health drops one, and for verify's guards.

The costliest GUARDED_STATEMENTS statements of pg_stat_statements are each
planned (EXPLAIN through pgtune's safe path, generic) in their role's
search_path, as suggest plans them: in pgtune's own, the application's
unqualified names do not resolve. A guard then gets the value scenarios
suggest would cost the same statement over (``valued``), so verify plans it
with values and ``--measure`` can time it (u2's R2: 0 of N timed before).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import psycopg

from ..analyze import AnalyzedStatement
from ..analyze import valued as analyze_valued
from ..capture import Statement, WorkloadFilter, read_workload
from ..connect import lost
from ..explain import PlanContext, explain
from ..roles import read_roles
from ..snapshot import snapshot

GUARDED_STATEMENTS = 200      # the costliest statements whose plans are read for an index to drop


@dataclass(frozen=True)
class UsedBy:
    """A statement of the workload whose plan uses some of the indexes asked about."""

    statement: Statement
    cost: float                        # its plan's cost, as planned now
    indexes: list[str]                 # the indexes asked about that its plan uses
    search_path: list[str] | None      # the role's search_path it was planned in (None: pgtune's own)


def statements_using(conn: psycopg.Connection[Any], indexes: set[str]) -> list[UsedBy]:
    """The statements whose plan uses one of ``indexes`` (bare names, as plans name them).

    Raises what reading pg_stat_statements raises (PgtuneError, psycopg.Error):
    the caller decides what not knowing means.
    """
    workload = read_workload(conn, WorkloadFilter(top=GUARDED_STATEMENTS))
    row = conn.execute("SELECT /* pgtune */ pg_catalog.current_schemas(false)").fetchone()
    roles = read_roles(conn, {st.userid for st in workload if st.userid is not None},
                       tuple(row[0]) if row else ("public",))
    out = []
    for st in workload:
        view = roles.view(st.userid)
        context = PlanContext(search_path=view.search_path) if view.role is not None else None
        try:
            # A JSON object's key $n is typed text: the server cannot infer it (p18, Prisma's relationJoins).
            plan = explain(conn, st.query, context=context)     # JSON object keys typed by Round
        except (ValueError, psycopg.Error):
            if lost(conn):
                raise
            continue        # utility statements, or ones that no longer plan
        used = sorted(plan.indexes & indexes)
        if used:
            out.append(UsedBy(st, plan.cost, used, list(view.search_path) if view.role is not None else None))
    return out


StatementKey = tuple[int | None, str, int | None]      # queryid, text and the role that ran it (its userid)


def valued(conn: psycopg.Connection[Any]) -> dict[StatementKey, AnalyzedStatement]:
    """The costliest GUARDED_STATEMENTS statements valued as suggest values them ((queryid, query, userid) -> its
    record: value scenarios, session). Raises what reading the workload raises (PgtuneError, psycopg.Error).

    analyze.valued keys its records by text, where a schema per tenant's roles run the same unqualified text,
    each its own statement (with one queryid for all from PostgreSQL 18 on): every tenant's guard took the last
    tenant's record (role, search_path), and verify planned one tenant for all (r19). So the statements are
    valued in rounds that each hold a text once."""
    snap = snapshot(conn, WorkloadFilter(top=GUARDED_STATEMENTS))
    rounds: list[list[Statement]] = []
    seen: dict[str, int] = {}
    for st in snap.statements:
        n = seen[st.query] = seen.get(st.query, -1) + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(st)
    return {row.key: row for group in rounds
            for row in analyze_valued(conn, replace(snap, statements=group)).values()}
