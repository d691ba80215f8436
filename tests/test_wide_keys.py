"""No b-tree key or INCLUDE on a column with values too wide for a b-tree entry (r11 F10).

``pages.url``: 100 of 100,000 rows hold a 3,246-byte url. A b-tree on it
failed to build ("index row size 3264 exceeds btree version 4 maximum
2704"); with the long rows written later, it would have failed their INSERT.
A hash index serves the equality lookups instead; a short text column still
gets its b-tree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.analyze import Options
from tests.helpers import steady_state

LOOKUP = "SELECT id FROM pages WHERE url = %s"


def _pages(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE pages (id int PRIMARY KEY, site int NOT NULL, host text NOT NULL, url text NOT NULL)")
    conn.execute("INSERT INTO pages SELECT g, g % 100, 'h' || g, 'https://x.org/' || md5(g::text) "
                 "FROM generate_series(1, 100000) g")
    # 64 md5s a row: incompressible enough that the stored value stays over the b-tree's limit
    conn.execute("UPDATE pages SET url = url || (SELECT string_agg(md5(i::text || id::text), '') "
                 "FROM generate_series(1, 100) i) WHERE id % 1000 = 0")
    conn.execute("ANALYZE pages")
    steady_state(conn)
    widest = conn.execute("SELECT max(pg_column_size(url)) FROM pages").fetchone()
    assert widest is not None and widest[0] > 2704


def _btree_keys(result: api.Suggestion) -> list[list[str]]:
    return [[*ix.columns, *ix.include] for ix in result.indexes.indexes if str(ix.method) == "btree"]


@pytest.mark.needs_hypopg
def test_equality_on_wide_column_gets_hash(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    _pages(conn)
    for i in range(50):
        conn.execute(LOOKUP, (f"https://x.org/{i}",), prepare=True)
        conn.execute("SELECT id FROM pages WHERE host = %s", (f"h{i}",), prepare=True)
    result = api.suggest(conn, api.SuggestOptions(constraints=False), emit=api.EmitOptions(directory=tmp_path / "m"))
    assert all("url" not in keys for keys in _btree_keys(result)), _btree_keys(result)
    assert ["host"] in _btree_keys(result)         # a text column whose values are short keeps its b-tree
    hashes = [ix for ix in result.indexes.indexes if str(ix.method) == "hash"]
    assert not any("no index pgtune could propose" in h for h in result.indexes.hints), result.indexes.hints
    assert [ix.columns for ix in hashes] == [["url"]], [ix.ddl for ix in result.indexes.indexes]
    assert "USING hash" in hashes[0].ddl and "3,2" in hashes[0].reason
    assert any("pages.url holds values of up to" in h and "2,704" in h for h in result.indexes.hints)
    api.apply(conn, tmp_path / "m")              # builds: no b-tree entry over the limit
    assert conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'pages' AND indexdef LIKE '%hash (url)%'"
                        ).fetchone() == (1,)


@pytest.mark.needs_hypopg
def test_order_by_wide_column_not_appended(conn: psycopg.Connection[Any]) -> None:
    """order_keys completes (site) with an ORDER BY's columns: never with url."""
    _pages(conn)
    for i in range(50):
        conn.execute("SELECT id, url FROM pages WHERE site = %s ORDER BY url LIMIT 10", (i,), prepare=True)
    result = api.suggest(conn, api.SuggestOptions(constraints=False))
    assert all("url" not in keys for keys in _btree_keys(result)), _btree_keys(result)


def test_wide_column_without_hypopg(conn: psycopg.Connection[Any]) -> None:
    """The heuristic mode (no HypoPG: PostgreSQL 18's embedded server) keeps no b-tree on url either; the hash is
    costed on a sample."""
    _pages(conn)
    for i in range(50):
        conn.execute(LOOKUP, (f"https://x.org/{i}",), prepare=True)
    result = api.suggest(conn, api.SuggestOptions(indexes=Options(use_hypopg=False), constraints=False))
    assert all("url" not in keys for keys in _btree_keys(result)), _btree_keys(result)
    assert any("pages.url holds values of up to" in h for h in result.indexes.hints)
    hashes = [ix for ix in result.indexes.indexes if str(ix.method) == "hash"]
    assert [(ix.columns, ix.costed_by) for ix in hashes] == [(["url"], "sample")]   # built on a sample of the table
