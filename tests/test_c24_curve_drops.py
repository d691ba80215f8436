"""A curve point that adds an index says which earlier index its set let go (c24, LOW).

The newest published videos (``status = 'published'``, 90% of rows) and the oldest drafts (10%): the greedy
takes a partial ``("createdAt") WHERE status = 'draft'`` for the drafts first, then ``("createdAt")`` for the
feed, which serves the drafts as well, so prune lets the partial one go. The curve's second point said
``add videos_createdAt_idx`` with no ``replaces`` while its ``indexes`` had lost the partial index.
"""

from __future__ import annotations

import itertools
from typing import Any

import psycopg
import pytest

from .helpers import run, steady_state, suggest

VIDEOS = """
CREATE TABLE videos (id bigint PRIMARY KEY, title text NOT NULL, status text NOT NULL,
                     "createdAt" timestamptz NOT NULL, views int NOT NULL);
INSERT INTO videos SELECT g, md5(g::text), CASE WHEN g % 10 = 0 THEN 'draft' ELSE 'published' END,
                          timestamptz '2026-01-01' + g * interval '1 minute', g % 1000
FROM generate_series(1, 200000) g;
ANALYZE videos;
"""


@pytest.mark.needs_hypopg
def test_an_add_point_names_the_earlier_index_its_set_dropped(conn: psycopg.Connection[Any]) -> None:
    conn.execute(VIDEOS)
    steady_state(conn)
    run(conn, """SELECT id, title FROM videos WHERE status = 'published' ORDER BY "createdAt" DESC LIMIT 20""",
        times=200)
    run(conn, """SELECT id FROM videos WHERE status = 'draft' ORDER BY "createdAt" LIMIT 20""", times=50)
    curve = suggest(conn).curve
    assert len(curve) >= 3, curve
    for before, point in itertools.pairwise(curve):
        replaced = set((point.replaces or "").split(", ")) - {""}
        lost = set(before.indexes) - set(point.indexes) - replaced
        # Without the fix: lost == {'videos_createdAt_where_status_draft_idx'} at an "add" with no word of it.
        said = getattr(point, "drops", [])      # (main had no such field)
        assert sorted(lost) == said, (point, before)
    assert any(p.action == "add" and getattr(p, "drops", []) for p in curve), curve
