"""p31 (a Civitai-shaped database on PostgreSQL 18, no HypoPG): phase 1 was the one GIN index, said to remove 80%.

Without HypoPG the b-tree proposals carry no cost, and phase 1 is chosen by the calls of the statements each
serves; a GIN index is costed on a sample (cost before and after, in planner units times calls). phases.build
added the two as one sum: the GIN's 65,290 cost units beside the b-trees' 4,700 calls put it alone in phase 1,
whose header said "these 1 indexes remove at least 80% of the workload cost the migration saves". Built, the
GIN's statement went from 1.99 ms to 0.07 ms at 87 calls; the feed phase 2 held went from 77 ms to 0.07 ms at
2,689 calls. In heuristic advice every index is now weighed by calls, and phase 1 says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from pgtune import api
from pgtune.analyze import Options
from pgtune.plan import phases

from .helpers import run, steady_state

SETUP = """
CREATE TABLE "ModelVersion" (id int PRIMARY KEY, "modelId" int NOT NULL, "trainedWords" text[] NOT NULL);
INSERT INTO "ModelVersion" SELECT g, g % 5000, ARRAY['word' || (g % 4999), 'word' || (g % 1777)]
FROM generate_series(1, 30000) g;
CREATE TABLE "Image" (id int PRIMARY KEY, "postId" int NOT NULL, index int NOT NULL, url text NOT NULL);
INSERT INTO "Image" SELECT g, g / 3, g % 3, 'https://img.example/' || g FROM generate_series(1, 60000) g;
ANALYZE "ModelVersion", "Image";
"""
WORDS = 'SELECT id, "modelId" FROM "ModelVersion" WHERE "trainedWords" @> %s LIMIT 20'
POST = 'SELECT id, url, index FROM "Image" WHERE "postId" = %s ORDER BY index'


def test_heuristic_phase_one_weighs_every_index_by_calls(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(SETUP)
    steady_state(conn)
    run(conn, WORDS, [([f"word{i}"],) for i in range(10)], times=10)
    run(conn, POST, [(i,) for i in range(300)], times=300)
    result = api.suggest(conn, api.SuggestOptions(Options(use_hypopg=False), constraints=False))
    advice = result.indexes
    kinds = {s.name: (s.method, s.cost_before is not None) for s in advice.indexes}
    assert ("gin", True) in kinds.values() and ("btree", False) in kinds.values(), kinds   # not vacuous
    m = phases.build(advice)
    first = m.phases[0]
    built = [ix.name for ix in first.indexes]
    post = [s.name for s in advice.indexes if s.table == "Image"]
    assert post and post[0] in built, (built, [(p.number, [i.name for i in p.indexes]) for p in m.phases])
    assert "workload cost" not in first.reason, first.reason
