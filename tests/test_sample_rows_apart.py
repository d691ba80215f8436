"""A GIN costed on a sample only where the sample's planner expects the rows the table's planner does.

The sample's ANALYZE reads its own random 30,000 rows. A searched value that
lands in the sample's histogram is expected there on 600 rows where the table
expects 6: the plans there price another regime. The final CI of session 33 saw
it once (test_p28_kinds_budget): the GIN was costed 2x instead of 40x and left
out. p32 saw the other side (a trigram GIN claimed 40x, measured 1.0-1.7x: the
sample expected 10 rows where the table expected 1,002). The sample is ANALYZEd
again where its scans' rows are more than 10x from the table's; a statement still
apart is not costed, and with none left the GIN is a hint that says why.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import sample_cost
from pgtune.analyze.extended_stats import Planned
from pgtune.analyze.trial import TrialFailed
from pgtune.capture import read_catalog
from pgtune.ddl import IndexKey, IndexMethod
from pgtune.explain import explain

from .helpers import steady_state

# autovacuum off: the statistics stay as the first ANALYZE left them, whatever the test writes afterwards.
POSTS = """
CREATE TABLE "Post" (id int PRIMARY KEY, tags text[] NOT NULL) WITH (autovacuum_enabled = off);
INSERT INTO "Post" SELECT g, ARRAY['t' || (g % 500), CASE WHEN g % 2 = 0 THEN 'draft' ELSE 'u' || g END]
FROM generate_series(1, 60000) AS g;
ANALYZE "Post";
"""
TAGGED = Planned('SELECT id FROM "Post" WHERE tags && $1', 1, 20, {"$1": "{draft}"})
LEFT = "SELECT count(*) FROM pg_class WHERE relname LIKE 'pgtune_sample%'"


def _costed(conn: psycopg.Connection[Any]) -> sample_cost.SampleCost:
    real = explain(conn, TAGGED.query, values=TAGGED.values)
    return sample_cost.on_sample(conn, read_catalog(conn), ("public", "Post"), IndexKey("tags"), IndexMethod.GIN,
                                 None, [TAGGED], [real])


def test_a_table_whose_statistics_are_not_its_rows_gets_no_sample_cost_but_the_reason(
        conn: psycopg.Connection[Any]) -> None:
    """The table's statistics say half the posts are drafts (30,000 rows); 20 are now. On the sample, ANALYZEd
    afresh, the GIN finds 20 rows in a few pages, a cut the table's planner, expecting 30,000, never plans."""
    conn.execute(POSTS)
    conn.execute("""UPDATE "Post" SET tags = ARRAY[tags[1], 'kept'] WHERE 'draft' = ANY (tags) AND id > 40""")
    steady_state(conn)
    with pytest.raises(TrialFailed, match=r"expects [\d,]+ rows of Post where the table's plan expects [1-9]\d,\d{3}"):
        _costed(conn)
    assert conn.execute(LEFT).fetchone() == (0,)


def test_a_sample_analyzed_off_the_mark_is_analyzed_again_and_costed(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample's first statistics say no post is a draft (as a random ANALYZE may expect 6 rows where 600
    are); the table's, and the sample's second ANALYZE, say half: the GIN is costed from the second."""
    conn.execute(POSTS)
    steady_state(conn)
    copy = sample_cost._copy

    def off_the_mark(c: psycopg.Connection[Any], source: Any, name: str, *args: Any) -> int:
        rows = copy(c, source, name, *args)
        c.execute(f"CREATE TEMPORARY TABLE kept AS SELECT * FROM pg_temp.{name}")
        c.execute(f"UPDATE pg_temp.{name} SET tags = '{{other}}'")
        c.execute(f"ANALYZE pg_temp.{name}")                   # statistics without a draft…
        c.execute(f"TRUNCATE pg_temp.{name}")
        c.execute(f"INSERT INTO pg_temp.{name} SELECT * FROM kept")    # …over the rows as they were
        c.execute("DROP TABLE kept")
        return rows

    monkeypatch.setattr(sample_cost, "_copy", off_the_mark)
    got = _costed(conn)
    assert got.share == 1.0 and got.before[0] is not None and got.after[0] is not None, got
    assert got.after[0] < got.before[0], got
    assert conn.execute(LEFT).fetchone() == (0,)
