"""p28: a statement whose GIN only the budget held back is not "no index pgtune could propose makes it cheaper"."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.ddl import IndexMethod

from .test_p28_kinds_budget import _suggested, by_method, results_read


@pytest.mark.needs_hypopg
def test_a_statement_whose_gin_is_over_the_budget_is_said_held_back_by_the_budget(
        db: str, conn: psycopg.Connection[Any]) -> None:
    results_read(db, conn)
    free = _suggested(conn)
    gin, btree = by_method(free)
    assert gin and btree, free.indexes.hints
    budget = round(((btree[0].forecast_bytes or 0) + (gin[0].forecast_bytes or 0) / 2) / 1048576, 2)
    held = _suggested(conn, max_index_mb=budget)
    assert [ix.method for ix in held.indexes.indexes] == [IndexMethod.BTREE], held.indexes.hints
    search = next(s for s in held.indexes.statements if "variables @>" in s.query)
    told = [h for h in held.indexes.hints if "variables @>" in h and "of the workload's planned cost" in h]
    assert told, held.indexes.hints
    for text in [search.note, *told]:
        assert "no index pgtune could propose" not in text, text
        assert f"--max-index-mb {budget:g}" in text, text
