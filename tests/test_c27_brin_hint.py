"""Heuristic mode's BRIN hint gave the wrong reason (p24, LOW): "costed (sample): no plan of the statements it serves
uses it", as if the BRIN served nothing. Built on the sample beside the proposed b-tree on its column (the plans
there choose among the table's indexes and the proposed b-trees), the plans took that b-tree: the hint says so, with
the two sizes that decided nothing else."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.analyze import Options

from .test_index_kinds import appended_and_read


@pytest.mark.no_hypopg
def test_the_heuristic_brin_hint_names_the_btree_the_plans_took(db: str, conn: psycopg.Connection[Any],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    real = api.suggest
    monkeypatch.setattr(api, "suggest", lambda c, _o: real(c, api.SuggestOptions(Options(use_hypopg=False),
                                                                                  constraints=False)))
    result = appended_and_read(db, conn, 'SELECT count(*) FROM "Event" WHERE "createdAt" >= $1 AND "createdAt" < $2')
    assert str(result.indexes.method) == "heuristic"
    events = [ix for ix in result.indexes.indexes if ix.table == "Event"]
    assert [(ix.columns, str(ix.method)) for ix in events] == [(["createdAt"], "btree")], result.indexes.hints
    brin = [h for h in result.indexes.hints if h.startswith('brin (createdAt) on public."Event"')]
    assert len(brin) == 1, result.indexes.hints
    # Without the fix: 'brin (createdAt) on public."Event" costed (sample): no plan of the statements it serves uses it'
    assert "no plan of the statements it serves uses it" not in brin[0], brin[0]
    assert f"take the proposed b-tree {events[0].name}" in brin[0], brin[0]
    assert "built on a sample" in brin[0] and "MB" in brin[0], brin[0]
