"""index-larger-than-table called a GIN index larger than its table "likely bloated" and rebuilt it (REINDEX
INDEX CONCURRENTLY as its fix, and in health --emit's rebuild phase): a GIN holds an entry per element, and one
freshly built is larger than narrow rows (p20's LOW; a b-tree larger than its table is still rebuilt)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from pgtune import api

SCHEMA = """
CREATE TABLE posts (id int PRIMARY KEY, tags int[] NOT NULL);
INSERT INTO posts SELECT g, array(SELECT (g * 7919 + k * 104729) % 2000000 FROM generate_series(1, 40) k)
FROM generate_series(1, 30000) g;
CREATE INDEX posts_tags_idx ON posts USING gin (tags);
ANALYZE posts;
"""


def test_a_fresh_gin_index_larger_than_its_table_is_not_called_bloated(conn: psycopg.Connection[Any],
                                                                         tmp_path: Path) -> None:
    conn.execute(SCHEMA)
    index, table = conn.execute("SELECT pg_relation_size('posts_tags_idx'), pg_relation_size('posts')").fetchone()
    assert index > max(table, 1 << 20), (index, table)      # the case: freshly built, over 1 MB, above its table
    report = api.health(conn, only=["index-larger-than-table"], emit=api.EmitOptions(directory=tmp_path / "h"))
    [found] = [f for f in report.findings if f.index == "posts_tags_idx"]
    assert "bloated" not in found.message and "gin index" in found.message, found.message
    assert found.fix == []
    scripts = "".join(p.read_text() for p in sorted((tmp_path / "h").glob("*.sql")))
    assert "REINDEX" not in scripts, scripts


def test_a_btree_larger_than_its_table_is_still_rebuilt(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE shrunk (id int PRIMARY KEY, pad text); "
                 "INSERT INTO shrunk SELECT g, 'x' FROM generate_series(1, 200000) g; "
                 "DELETE FROM shrunk WHERE id > 1000")
    conn.execute("VACUUM shrunk")
    report = api.health(conn, only=["index-larger-than-table"])
    [found] = [f for f in report.findings if f.index == "shrunk_pkey"]
    assert found.message.endswith("likely bloated") and found.fix and "REINDEX" in found.fix[0], found
