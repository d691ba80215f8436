"""p28: --max-index-mb and --max-indexes hold the GIN, BRIN and hash proposals too, not only the b-trees.

On a Typebot-shaped database (4M results), `suggest --max-index-mb 50` kept its b-trees at 47.7 MB and then
added a 185 MB jsonb_path_ops GIN on "Result".variables: 233 MB of new indexes for a 50 MB budget. The GIN
and BRIN proposals come after the b-tree selection (analyze.beyond), which never saw the budget.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.analyze import Options
from pgtune.ddl import IndexMethod

from .helpers import steady_state

RESULTS = """
CREATE TABLE "Result" (id int PRIMARY KEY, "typebotId" text NOT NULL, variables jsonb NOT NULL);
INSERT INTO "Result" SELECT g, 'bot' || (g % 300),
       jsonb_build_array(jsonb_build_object('name', 'email', 'value', 'visitor' || g || '@mail.test'))
FROM generate_series(1, 60000) AS g;
ALTER TABLE "Result" ALTER COLUMN variables SET STATISTICS 200;  -- ANALYZE reads every row: the same estimates each run
ANALYZE "Result";
"""
SEARCH = 'SELECT id FROM "Result" WHERE variables @> $1::jsonb LIMIT 20'
BY_BOT = 'SELECT id FROM "Result" WHERE "typebotId" = $1'


def results_read(db: str, conn: psycopg.Connection[Any]) -> None:
    """The Result table, and the application's searches of its documents and reads by bot (20 of each)."""
    conn.execute(RESULTS)
    steady_state(conn)
    with psycopg.connect(db, autocommit=True, cursor_factory=psycopg.RawCursor) as app:
        for n in range(20):
            app.execute(SEARCH, (f'[{{"value": "visitor{n * 997}@mail.test"}}]',)).fetchall()
            app.execute(BY_BOT, (f"bot{n}",)).fetchall()


def by_method(advice: api.Suggestion) -> tuple[list[Any], list[Any]]:
    """The GIN and the b-tree proposals of ``advice``."""
    found = advice.indexes.indexes
    return [ix for ix in found if ix.method == IndexMethod.GIN], [ix for ix in found if ix.method == IndexMethod.BTREE]


def _suggested(conn: psycopg.Connection[Any], **budget: Any) -> api.Suggestion:
    return api.suggest(conn, api.SuggestOptions(indexes=Options(**budget), constraints=False))


@pytest.mark.needs_hypopg
def test_a_gin_over_what_the_btrees_left_of_the_budget_is_a_hint_not_a_proposal(
        db: str, conn: psycopg.Connection[Any]) -> None:
    results_read(db, conn)
    free = _suggested(conn)
    gin, btree = by_method(free)
    assert [ix.columns for ix in gin] == [["variables"]] and [ix.columns for ix in btree] == [["typebotId"]], \
        free.indexes.hints
    gin_mb, btree_mb = (gin[0].forecast_bytes or 0) / 1048576, (btree[0].forecast_bytes or 0) / 1048576
    assert gin_mb > 0.5 and btree_mb > 0.1, (gin_mb, btree_mb)

    # A budget that holds the b-tree but not the b-tree and the GIN: the GIN is a hint naming the budget.
    budget = round(btree_mb + gin_mb / 2, 2)
    held = _suggested(conn, max_index_mb=budget)
    assert [ix.columns for ix in held.indexes.indexes] == [["typebotId"]], held.indexes.hints
    assert sum(ix.forecast_bytes or 0 for ix in held.indexes.indexes) <= budget * 1048576
    assert any(h.startswith(f"{gin[0].name} not proposed:") and f"over --max-index-mb {budget:g}" in h
               for h in held.indexes.hints), held.indexes.hints

    # One index allowed: the b-tree's step, no GIN beside it.
    one = _suggested(conn, max_indexes=1)
    assert len(one.indexes.indexes) == 1, [ix.name for ix in one.indexes.indexes]
    assert any("over --max-indexes 1" in h for h in one.indexes.hints), one.indexes.hints

    # A budget both fit in: both proposed.
    both = _suggested(conn, max_index_mb=round(btree_mb + gin_mb * 2 + 1, 1))
    assert sorted(str(ix.method) for ix in both.indexes.indexes) == ["btree", "gin"], both.indexes.hints
