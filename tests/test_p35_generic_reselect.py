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
from pgtune.analyze.hot import HotWrites, TableHot, UpdateStatement
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
    op.build(conn, in_order=False)
    snap = snapshot(conn, WorkloadFilter(), statements=[])
    advice = Advice(Method.HYPOPG, indexes=[
        _proposal("n_app", '"projectId", "sendToApp"', ["projectId", "sendToApp"], [False, False]),
        _proposal("n_created", '"createdAt" DESC', ["createdAt"], [True])], statements=[
        _statement(1, op.LIST, {"$1": op.big(3), "$2": "3421", "$3": "0"}, "n_created"),     # a big project's page
        _statement(2, op.IN_APP, {"$1": op.big(2), "$2": "t", "$3": "0"}, "n_app")])
    reselect.review(conn, snap, advice)
    assert advice.hints[0].startswith("n_app withdrawn: the generic plan of statement 1 ("), advice.hints  # stays
    assert [h for h in advice.hints if "withdrawn" in h] == advice.hints[:1], advice.hints
    new = {(tuple(ix.columns), tuple(ix.descending), tuple(ix.include)): ix for ix in advice.indexes
           if ix.name not in ("n_app", "n_created")}
    # The page gets ("projectId", "createdAt" DESC); the in-app list an index-only twin of the withdrawn index,
    # which its plan with values takes too (no risk). The withdrawn one itself is not proposed again.
    assert set(new) == {(("projectId", "createdAt"), (False, True), ()),
                        (("projectId", "sendToApp"), (False, False), ("id", "createdAt"))}, advice.indexes
    ix = new[(("projectId", "createdAt"), (False, True), ())]
    assert "n_app was withdrawn" in ix.reason, ix.reason
    listing, in_app = advice.statements
    assert ix.name in listing.indexes and [q.queryid for q in ix.queries] == [1], listing.indexes
    assert in_app.indexes and ix.name not in in_app.indexes, in_app.indexes
    assert conn.execute("SELECT count(*) FROM hypopg_list_indexes").fetchone() == (0,)
    # Built, it serves the page of a small project and of a big one, in the generic plan and in custom plans.
    for i in advice.indexes:
        conn.execute(i.ddl.replace(" CONCURRENTLY", ""))
    conn.execute(f"PREPARE list(text, int, int) AS {op.LIST}")
    for mode, project in [("force_generic_plan", op.small(7)), ("force_custom_plan", op.small(7)),
                          ("force_custom_plan", op.big(3)), ("force_generic_plan", op.big(3))]:
        plan = _plan(conn, mode, project)
        assert ix.name in plan and "Seq Scan" not in plan, (mode, project, plan)


@pytest.mark.needs_hypopg
def test_an_index_the_hot_charge_withdraws_gives_way_to_one_that_keeps_hot(conn: psycopg.Connection[Any]) -> None:
    """The HOT charge withdraws an index for one of its columns, not for its statements: the unread list's
    ("projectId", "isReadAt") stops the read marks' HOT updates. What the list gets instead holds no "isReadAt":
    the new selection charges a candidate the HOT updates it would stop (a partial index WHERE "isReadAt" IS NULL,
    the cheapest plan, stops them too), and the HOT charge reviews what it adds."""
    op.build(conn)
    snap = snapshot(conn, WorkloadFilter(), statements=[])
    table = ("public", "notifications")
    mark = UpdateStatement(9, op.MARK_READ, table, frozenset({"isReadAt"}), 200_000, 200_000)
    writes = HotWrites(snap.catalog, updates={table: [mark]}, tables={table: TableHot(200_000, 190_000, 100, 1)})
    unread = _statement(3, op.UNREAD, {"$1": op.big(1), "$2": "20", "$3": "0"}, "n_read")
    advice = Advice(Method.HYPOPG, indexes=[
        _proposal("n_read", '"projectId", "isReadAt"', ["projectId", "isReadAt"], [False, False])],
        statements=[unread])
    reselect.review(conn, snap, advice, writes)
    [withdrawn] = [h for h in advice.hints if "withdrawn" in h]       # nothing proposed that the charge withdraws
    assert withdrawn.startswith("n_read withdrawn: it saves"), advice.hints
    [ix] = advice.indexes
    assert "isReadAt" not in ix.columns and ix.where is None and "isReadAt" not in ix.include, (ix, advice.hints)
    assert ix.columns[0] == "projectId" and ix.name in unread.indexes, ix
    assert "keeps HOT updates" in ix.reason, ix.reason


@pytest.mark.needs_hypopg
def test_in_created_order_the_replacement_is_weighed_by_the_generic_plan_the_server_runs(
        conn: psycopg.Connection[Any]) -> None:
    """In ``createdAt`` order on disk the big project's plan walks ("createdAt" DESC), also beside ("projectId",
    "createdAt" DESC): costed by its plans with values alone, the list gains nothing from it and it was never
    tried. The statement whose generic plan took the withdrawn index runs that generic plan: it is costed by it
    (about 1,476 -> 49 a call), the index is proposed, and the review weighs it as any other: the planner prices
    the big project's calls read through it at 2,784 against 1,828 (60 calls: 57k more, against 86k saved, under
    the factor of ten), so it is withdrawn, its hint naming it; the headline is untouched throughout."""
    op.build(conn)
    snap = snapshot(conn, WorkloadFilter(), statements=[])
    advice = Advice(Method.HYPOPG, indexes=[
        _proposal("n_app", '"projectId", "sendToApp"', ["projectId", "sendToApp"], [False, False]),
        _proposal("n_created", '"createdAt" DESC', ["createdAt"], [True])], statements=[
        _statement(1, op.LIST, {"$1": op.big(3), "$2": "3421", "$3": "0"}, "n_created")])
    reselect.review(conn, snap, advice)
    first, second = advice.hints
    assert first.startswith("n_app withdrawn: the generic plan of statement 1 ("), advice.hints
    assert second.startswith("notifications_projectId_createdAt_desc_idx withdrawn: the generic plan of statement "
                             "1 ("), advice.hints
    assert [ix.name for ix in advice.indexes] == ["n_created"]
    listing = advice.statements[0]
    assert listing.indexes == ["n_created"] and listing.cost_after == 2000.0     # the headline: plans with values


@pytest.mark.needs_hypopg
def test_the_new_selection_stays_within_the_budget(conn: psycopg.Connection[Any]) -> None:
    """The withdrawn index's room was the selection's: what the new selection adds must fit --max-indexes (and
    --max-index-mb) beside the proposals left, as the GIN and BRIN proposals must; the rest is a hint."""
    from pgtune.analyze.kind_budget import Budget

    op.build(conn, in_order=False)
    snap = snapshot(conn, WorkloadFilter(), statements=[])
    advice = Advice(Method.HYPOPG, indexes=[
        _proposal("n_app", '"projectId", "sendToApp"', ["projectId", "sendToApp"], [False, False]),
        _proposal("n_created", '"createdAt" DESC', ["createdAt"], [True])], statements=[
        _statement(1, op.LIST, {"$1": op.big(3), "$2": "3421", "$3": "0"}, "n_created"),
        _statement(2, op.IN_APP, {"$1": op.big(2), "$2": "t", "$3": "0"}, "n_app")])
    reselect.review(conn, snap, advice, budget=Budget(max_indexes=2))
    assert len(advice.indexes) == 2, advice.indexes          # n_created and one new index, not the two unbounded
    assert [h for h in advice.hints if "over --max-indexes 2" in h], advice.hints
