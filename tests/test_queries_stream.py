"""A --queries file of any size is read as a stream (issue 28): split as the whole text would be, repeats counted.

The 20 MB file of the issue gave no answer in 7 minutes, with no progress shown:
the whole text was held, split, and every repeat of a statement analyzed as a
statement of its own.
"""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.capture import split_statements
from pgtune.capture.stream import KEPT, read_queries, read_queries_stream, statements
from pgtune.cli import cli

TEXTS = [
    "SELECT 1; select 'a;b' from t;SELECT $$x;y$$ ; /* c; */ SELECT 2;-- x;\nSELECT 3",
    "SELECT 'é;ü'; SELECT \"a;\" FROM x;;  ;PREPARE p AS SELECT $1; EXECUTE p(1)",
    "SELECT 1; SELECT 'never closed; SELECT 2; SELECT 3",
    "SELECT $tag$ a;b $tag$; SELECT /* open; to the end",
]


def test_split_in_blocks_is_the_split_of_the_whole_text() -> None:
    """Every cut of the text into two or three blocks: a quote, comment or dollar quote across the cut included."""
    for text in TEXTS:
        whole = split_statements(text)
        for i in range(len(text) + 1):
            assert list(statements([text[:i], text[i:]])) == whole, (text, i)
            j = (i * 7) % (len(text) + 1)
            a, b = sorted((i, j))
            assert list(statements([text[:a], text[a:b], text[b:]])) == whole, (text, a, b)


def test_a_big_file_is_read_in_bounded_memory_with_repeats_counted() -> None:
    """6 MB of 40 statements of one shape repeated: the first KEPT texts, every call counted on them, in less
    memory than the file."""
    shapes = [f"SELECT id, note FROM orders WHERE customer = {n} AND status = 'open' ORDER BY id" for n in range(40)]
    block = (";\n".join(shapes) + ";\n").encode()
    data = block * (6 * 1048576 // len(block))
    said: list[str] = []
    tracemalloc.start()
    got = read_queries_stream(io.BytesIO(data), "big.sql", said.append, size=len(data))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    repeats = len(data) // len(block)
    assert [s.query for s in got] == shapes[:KEPT]
    assert sum(s.calls for s in got) == 40 * repeats and {s.calls for s in got} == {10 * repeats}
    assert peak < 8 * 1048576, peak     # the whole text and its tokens held: 6 MB and ~50 bytes per byte
    assert said and said[-1].startswith(f"read {len(data) / 1048576:,.1f} of")
    assert f"{40 * repeats:,} statements, 1 distinct shapes" in said[-1]


def test_suggest_reads_a_big_queries_file_and_says_how_far_it_is(db: str, tmp_path: Path) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, customer int, status text, note text)")
        conn.execute("INSERT INTO orders SELECT g, g % 5000, CASE WHEN g % 50 = 0 THEN 'open' ELSE 'done' END, "
                     "'n' || g FROM generate_series(1, 50000) g")
        conn.execute("ANALYZE orders")
    shapes = [f"SELECT id, note FROM orders WHERE customer = {n}" for n in range(20)]
    block = ";\n".join(shapes) + ";\n"
    path = tmp_path / "big.sql"
    with path.open("w") as out:
        for _ in range(2 * 1048576 // len(block)):
            out.write(block)
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(path), "--format", "json",
                                       "--no-constraints"])
    assert result.exit_code == 0, result.output
    advice: Any = json.loads(result.stdout)
    assert len(advice["statements"]) == KEPT       # one shape: its first texts, the other calls counted on them
    assert sum(s["calls"] for s in advice["statements"]) == 20 * (2 * 1048576 // len(block))
    assert any(ix["columns"][:1] == ["customer"] for ix in advice["indexes"])


def test_one_body_prepared_under_many_names_keeps_every_execution() -> None:
    """A pooled app prepares the same body once per connection: every name keeps its PREPARE, so each EXECUTE
    finds its body (r7: 8 names x 100 executions counted 400 calls; a comment before an EXECUTE lost its name)."""
    names = [f"conn{i}" for i in range(1, 9)]
    lines = [f"PREPARE {n}(int) AS SELECT * FROM orders WHERE customer_id = $1;" for n in names]
    lines += [f"/* app */ EXECUTE {n}({v});" if v % 2 else f"EXECUTE {n}({v});" for n in names for v in range(100)]
    got = read_queries_stream(io.BytesIO("\n".join(lines).encode()), "log")
    assert sum(s.calls for s in got if s.query.startswith("PREPARE")) == 800, [(s.calls, s.query) for s in got]
    assert not [s for s in got if "EXECUTE" in s.query]


def test_only_the_most_seen_shapes_are_analyzed_the_rest_counted() -> None:
    """A log of many shapes (p11: 20 MB, 22,260 shapes, 2.3 GB and no answer in 10 minutes): the ``top`` shapes
    seen most often are returned, ties first seen first, the rest counted; a PREPARE carries its EXECUTEs'
    calls."""
    lines = ["SELECT * FROM a WHERE x = 1;"] * 5 + ["SELECT * FROM b WHERE y = 2;"] * 3
    lines += ["PREPARE p(int) AS SELECT * FROM c WHERE z = $1;"] + [f"EXECUTE p({v});" for v in range(9)]
    lines += [f"SELECT col{i} FROM d;" for i in range(300)]      # 300 shapes seen once each
    lines += ["SELEC broken FROM d;"]     # seen once, and kept: analyze says why it is skipped
    read = read_queries(io.BytesIO("\n".join(lines).encode()), "log", top=2)
    assert [(s.query, s.calls) for s in read.statements] == [
        ("SELECT * FROM a WHERE x = 1", 5), ("PREPARE p(int) AS SELECT * FROM c WHERE z = $1", 9),
        ("SELEC broken FROM d", 1)]
    assert (read.shapes, read.left_shapes, read.left_calls) == (305, 301, 303)
    assert read.note() is not None and "301 of the file's 305 statement shapes (303 statements)" in read.note()
    assert read_queries(io.BytesIO("\n".join(lines).encode()), "log").note() is None


def test_texts_held_follow_top_not_the_file() -> None:
    """20,000 shapes seen once and one seen 1,000 times: with ``top`` the texts of the least-seen are let go as
    the file is read, so memory stays well under holding every shape's text."""
    rare = "".join(f"SELECT c{i}, '{'x' * 200}' FROM t{i};\n" for i in range(20_000)).encode()
    data = b"SELECT * FROM hot WHERE k = 1;\n" * 1000 + rare
    peaks = []
    for top in (None, 5):
        tracemalloc.start()
        read = read_queries(io.BytesIO(data), "log", top=top)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert read.statements[0].query == "SELECT * FROM hot WHERE k = 1" and read.statements[0].calls == 1000
    assert len(read.statements) == 5 and read.left_calls == 20_000 - 4
    assert peaks[1] < peaks[0] / 4, peaks     # measured: 45.7 MB -> 6.6 MB at 60,000


def test_suggest_analyzes_the_top_shapes_of_a_queries_file(db: str, tmp_path: Path) -> None:
    """--top applies to a --queries file by how often each shape appears; stderr says what was counted only."""
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, customer int, status text, note text)")
        conn.execute("INSERT INTO orders SELECT g, g % 5000, 'done', 'n' || g FROM generate_series(1, 20000) g")
        conn.execute("ANALYZE orders")
    path = tmp_path / "log.sql"
    path.write_text("SELECT id FROM orders WHERE customer = 7;\n" * 20 + "SELECT id FROM orders WHERE note = 'n5';\n"
                    + "SELECT id FROM orders WHERE status = 'x' AND note = 'n';\n")
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(path), "--format", "json",
                                       "--no-constraints", "--top", "1"])
    assert result.exit_code == 0, result.output
    advice: Any = json.loads(result.stdout)
    assert [s["query"] for s in advice["statements"]] == ["SELECT id FROM orders WHERE customer = 7"]
    assert "note: 2 of the file's 3 statement shapes (2 statements)" in result.stderr


@pytest.mark.needs_hypopg
def test_a_constant_that_varies_in_the_file_makes_no_partial_index(db: str, tmp_path: Path) -> None:
    """p11: from a 20 MB Umami-shaped log, 3 of 10 proposals were partial indexes on one call's constant
    (``WHERE referrer_domain = 'x344'``), each serving one text of a shape the file holds with other values. A
    constant the shape always carries keeps its partial index."""
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE events (id int PRIMARY KEY, kind text NOT NULL, v int NOT NULL)")
        conn.execute("INSERT INTO events SELECT g, CASE WHEN g % 100 < 97 THEN 'view' ELSE 'k' || (g % 100) END, "
                     "g % 1000 FROM generate_series(1, 100000) g")
        conn.execute("ANALYZE events")

    def wheres(text: str) -> list[str | None]:
        path = tmp_path / "log.sql"
        path.write_text(text)
        result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(path), "--format", "json",
                                           "--no-constraints"])
        assert result.exit_code == 0, result.output
        return [ix["where"] for ix in json.loads(result.stdout)["indexes"]]

    varying = "".join(f"SELECT id FROM events WHERE v = 5 AND kind = 'k{k}';\n" * 30 for k in (97, 98, 99))
    assert wheres(varying) == [None], "a partial index on one call's constant"
    assert wheres("SELECT id FROM events WHERE v = 5 AND kind = 'k98';\n" * 90) == ["kind = 'k98'"]
