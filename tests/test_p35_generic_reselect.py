"""A generic-plan withdrawal is followed by a new selection for the statements it left (p35, OpenPanel-shaped).

On an OpenPanel-shaped database the generic-plan review withdrew ``notifications ("projectId", "sendToApp")``:
the notifications list's generic plan (priced for a typical, small project) took it, its plan with a big
project's value did not. Nothing replaced it: the set kept ``("createdAt" DESC)`` alone on the table, and the
3,995 small projects' list (40% of its calls) still read the table (300-345 ms), while ``("projectId",
"createdAt" DESC)`` serves big and small projects alike, in custom and generic plans. The statements a withdrawal
leaves (those it served, and those whose generic plan took it) now get their candidates again, the withdrawn one
excluded, and what is added goes through the same review.

The set is the one the selection gave on that database, written here by hand: on this small copy the selection
takes ("projectId", "createdAt" DESC) from the start.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import reselect
from pgtune.analyze.model import Advice, AnalyzedStatement, IndexSuggestion, Method
from pgtune.capture import WorkloadFilter
from pgtune.snapshot import snapshot

from . import openpanel_app as op


def _proposal(name: str, keys: str, columns: list[str], desc: list[bool]) -> IndexSuggestion:
    return IndexSuggestion("public", "notifications", name, columns, desc,
                           f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON public.notifications ({keys})',
                           f'DROP INDEX CONCURRENTLY IF EXISTS public."{name}"', "ANALYZE public.notifications",
                           "serves 1 statement", cost_before=60 * 4699.0, cost_after=60 * 3124.0)


def _statement(queryid: int, query: str, values: dict[str, str | None], index: str) -> AnalyzedStatement:
    return AnalyzedStatement(queryid, query, 60, 5.0, cost_before=5000.0, cost_after=2000.0, indexes=[index],
                             scenarios=[{"values": values, "source": "qualstats", "weight": 1.0}])


def _plan(conn: psycopg.Connection[Any], mode: str, project: str) -> str:
    conn.execute(f"SET plan_cache_mode = {mode}")
    try:
        rows = conn.execute(f"EXPLAIN EXECUTE list('{project}', 3421, 0)").fetchall()
    finally:
        conn.execute("RESET plan_cache_mode")
    return "\n".join(r[0] for r in rows)


@pytest.mark.needs_hypopg
def test_a_withdrawn_index_gives_way_to_one_that_serves_big_and_small_projects(conn: psycopg.Connection[Any]) -> None:
    op.build(conn)
    snap = snapshot(conn, WorkloadFilter(), statements=[])
    advice = Advice(Method.HYPOPG, indexes=[
        _proposal("n_app", '"projectId", "sendToApp"', ["projectId", "sendToApp"], [False, False]),
        _proposal("n_created", '"createdAt" DESC', ["createdAt"], [True])], statements=[
        _statement(1, op.LIST, {"$1": op.big(3), "$2": "3421", "$3": "0"}, "n_created"),     # a big project's page
        _statement(2, op.IN_APP, {"$1": op.big(2), "$2": "t", "$3": "0"}, "n_app")])
    reselect.review(conn, snap, advice)
    assert advice.hints[0].startswith("n_app withdrawn: the generic plan of statement 1 ("), advice.hints  # stays
    new = [ix for ix in advice.indexes if ix.name not in ("n_app", "n_created")]
    assert [(ix.columns, ix.descending) for ix in new] == [(["projectId", "createdAt"], [False, True])], \
        (advice.indexes, advice.hints)
    [ix] = new
    assert "n_app was withdrawn" in ix.reason, ix.reason
    listing = advice.statements[0]
    assert ix.name in listing.indexes and [q.queryid for q in ix.queries] == [1]
    # A candidate withdrawn once is not proposed again; nothing keyed on "sendToApp" is left in the set.
    assert all("sendToApp" not in i.columns for i in advice.indexes), advice.indexes
    assert conn.execute("SELECT count(*) FROM hypopg_list_indexes").fetchone() == (0,)
    # Built, it serves the page of a small project and of a big one, in the generic plan and in custom plans.
    for i in advice.indexes:
        conn.execute(i.ddl.replace(" CONCURRENTLY", ""))
    conn.execute(f"PREPARE list(text, int, int) AS {op.LIST}")
    for mode, project in [("force_generic_plan", op.small(7)), ("force_custom_plan", op.small(7)),
                          ("force_custom_plan", op.big(3)), ("force_generic_plan", op.big(3))]:
        plan = _plan(conn, mode, project)
        assert ix.name in plan and "Seq Scan" not in plan, (mode, project, plan)
