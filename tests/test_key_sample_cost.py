"""What a suggest's key samples cost the server (issue 28: suggest <= 10 s a budget on TPC-H, where the key
samples were most of its server time): a sample is taken only where it tells the forecast something, and the
indexes that are not grouped by their keys are all worked out in one read of the sample, for the same
forecasts as before."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Candidate, key_sample, sizing
from pgtune.analyze.footprint import Footprint
from pgtune.capture import read_catalog
from pgtune.ddl import IndexKey

from .test_footprint import _samples_sent

# Loaded with no constraints, as TPC-H's tables are: only pg_stats says a column holds no NULL.
LOADED = """
CREATE TABLE loaded (id int, day date, qty int, maybe int, note text, tag text);
INSERT INTO loaded SELECT g, date '2026-01-01' + g % 700, g % 50, CASE WHEN g % 10 = 0 THEN NULL ELSE g % 9 END,
       repeat('n', g % 30), 't' || (g % 5) FROM generate_series(1, 200000) AS g;
ANALYZE loaded;
"""
TABLE = ("public", "loaded")


def test_a_fixed_width_column_pg_stats_sees_no_null_in_is_not_sampled_for_its_width(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """An integer or a date with no NOT NULL but no NULL either (null_frac 0) has its type's width in every
    tuple: the sample measured what the type says (16 of 49 sampled seed indexes on TPC-H). The forecast is the
    one the sampled bytes give; a column holding NULLs is still sampled."""
    conn.execute(LOADED)
    catalog = read_catalog(conn)
    assert catalog.table_columns(TABLE)["day"].null_frac == 0.0
    sent = _samples_sent(monkeypatch)
    footprint = Footprint(conn, catalog, 0.0)
    plain = [Candidate(TABLE, (IndexKey(c),), 1) for c in ("day", "qty")]
    got = [footprint.forecast(c) for c in plain]
    assert sent == []
    rows = catalog.tables[TABLE].reltuples
    for cand, forecast in zip(plain, got, strict=True):
        sampled = key_sample.sample_keys(conn, TABLE, cand.keys, rows)
        assert sampled is not None
        assert forecast == sizing.forecast(catalog, TABLE, cand.keys, tuple_bytes=sampled.tuple_bytes)
    before = len(sent)
    footprint.forecast(Candidate(TABLE, (IndexKey("maybe"),), 1))
    assert len(sent) == before + 1 and "pg_column_size" in sent[-1]


def test_keys_a_sample_would_tell_nothing_are_not_sampled(conn: psycopg.Connection[Any],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A key with a near-unique column (not counted: key_sample.near_unique) of exact widths (not sized)
    learnt only the sample's row count: a round trip and a read of the table for nothing."""
    conn.execute(LOADED)
    catalog = read_catalog(conn)
    sent = _samples_sent(monkeypatch)
    cand = Candidate(TABLE, (IndexKey("id"), IndexKey("qty")), 1)
    assert Footprint(conn, catalog, 0.0).forecast(cand) == sizing.forecast(catalog, TABLE, cand.keys)
    assert sent == []


def test_indexes_not_grouped_by_their_keys_share_one_read_of_the_sample(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Each index the sample does not group (one plain column: pg_stats counts it; only its tuple bytes are
    asked) read the sample again for its own sum; now they are summed together, in one pass, with the same
    answers as each alone. With nothing to group, no page is worked out and nothing is materialized."""
    conn.execute(LOADED)
    catalog = read_catalog(conn)
    rows = catalog.tables[TABLE].reltuples
    flat = [((IndexKey("note"),), ()), ((IndexKey("tag"),), ()), ((IndexKey("maybe"),), ("note",))]
    grouped = [((IndexKey("tag"), IndexKey("note")), ())]
    sent = _samples_sent(monkeypatch)
    mixed = key_sample.sample_keys_many(conn, TABLE, flat + grouped, rows, single_distinct=False)
    alone = key_sample.sample_keys_many(conn, TABLE, flat, rows, single_distinct=False)
    assert len(sent) == 2
    assert sent[0].count('FROM "pgtune_s"') == 2, sent[0]      # the grouped index, and the three others
    assert "MATERIALIZED" not in sent[1] and "::text::point" not in sent[1], sent[1]
    each = [key_sample.sample_keys(conn, TABLE, keys, rows, include=include) for keys, include in flat + grouped]
    assert all(s is not None for s in each)
    assert [s.tuple_bytes for s in mixed if s] == [s.tuple_bytes for s in each if s]
    assert [s.tuple_bytes for s in alone if s] == [s.tuple_bytes for s in each[:3] if s]
    assert [s.distinct for s in mixed] == [None, None, None, each[3].distinct if each[3] else -1]
