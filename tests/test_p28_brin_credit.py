"""p28: a GIN or BRIN proposal credits its statements only once taken, and in place of a b-tree at its own cost.

On a Typebot-shaped database a BRIN on "Result"."createdAt" replaced the range b-tree; its statements kept the
b-tree's predicted cost: suggest's headline counted it and verify showed "predicted 1,636.4x" beside the built
BRIN's 11.3x, where the BRIN's own plans had said 3.4x. A candidate refused after it was costed (a BRIN that
keeps too little of the b-tree's saving, a GIN over the budget) was named by its statements all the same.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from .test_index_kinds import appended_and_read


@pytest.mark.needs_hypopg
def test_a_brin_in_place_of_a_btree_gives_its_statements_its_own_cost(
        db: str, conn: psycopg.Connection[Any]) -> None:
    by_kind = 'SELECT kind, count(*) FROM "Event" WHERE "createdAt" >= $1 AND "createdAt" < $2 GROUP BY kind'
    result = appended_and_read(db, conn, by_kind)
    brin = [ix for ix in result.indexes.indexes if ix.table == "Event"]
    assert [str(ix.method) for ix in brin] == ["brin"] and "in place of the b-tree" in brin[0].reason, \
        result.indexes.hints
    served = [st for st in result.indexes.statements if "GROUP BY" in st.query]
    assert len(served) == 1 and served[0].indexes == [brin[0].name]
    st, ix = served[0], brin[0]
    assert st.cost_before and st.cost_after and ix.cost_before and ix.cost_after
    # One statement: its cut is the BRIN's, not the replaced b-tree's.
    assert st.cost_before / st.cost_after == pytest.approx(ix.cost_before / ix.cost_after, rel=0.02), \
        (st.cost_before, st.cost_after, ix.cost_before, ix.cost_after)


@pytest.mark.needs_hypopg
def test_a_brin_refused_for_the_btree_is_not_named_by_its_statements(
        db: str, conn: psycopg.Connection[Any]) -> None:
    latest = 'SELECT id FROM "Event" WHERE "createdAt" >= $1 AND "createdAt" < $2 ORDER BY "createdAt" LIMIT 10'
    result = appended_and_read(db, conn, latest, days=5)
    events = [ix for ix in result.indexes.indexes if ix.table == "Event"]
    assert [str(ix.method) for ix in events] == ["btree"], result.indexes.hints
    assert any("brin_idx not proposed" in h for h in result.indexes.hints), result.indexes.hints
    served = [st for st in result.indexes.statements if "ORDER BY" in st.query]
    assert served and all(st.indexes == [events[0].name] for st in served), [st.indexes for st in served]
