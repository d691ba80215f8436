"""A GIN's size forecast from a sample where the index's keys repeat at full scale (p28, Typebot).

p28: Result.variables jsonb_path_ops on 4M rows holding 200k distinct
emails (each ~20 times) was forecast at 185.3 MB and built at 60.0 MB: a
2.5% sample sees most emails once, and its size was scaled by the rows. The
forecast must come within 1.5x of the built index there, and must not
undershoot where each row's key really is unique.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import sample_cost

from .helpers import result_gin_advice

ROWS = 1_000_000


def _forecast_and_built(conn: psycopg.Connection[Any], distinct: int) -> tuple[int, int]:
    advice = result_gin_advice(conn, ROWS, distinct)
    gins = [ix for ix in advice.indexes if ix.columns[0] == "variables"]
    assert gins and gins[0].costed_by == "sample", [ix.reason for ix in advice.indexes]
    assert gins[0].forecast_bytes is not None
    # Built serially: PostgreSQL 18's parallel GIN build makes a larger index (1M unique emails: 57.1 MB with
    # 2 workers, 35.0 MB without), which no sample's serial build shows.
    conn.execute("SET max_parallel_maintenance_workers = 0")
    conn.execute('CREATE INDEX result_variables ON "Result" USING gin (variables jsonb_path_ops)')
    built = conn.execute("SELECT pg_relation_size('result_variables')").fetchone()
    assert built is not None
    return gins[0].forecast_bytes, int(built[0])


def test_a_gin_whose_keys_repeat_twenty_times_is_forecast_near_its_built_size(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sample_cost, "SAMPLE_ROWS", 25_000)        # 2.5% of the rows, as p28's 100k of 4M
    forecast, built = _forecast_and_built(conn, ROWS // 20)
    assert built / 1.5 < forecast < built * 1.5, (forecast, built)


def test_a_gin_whose_keys_are_unique_is_not_forecast_smaller_than_built(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sample_cost, "SAMPLE_ROWS", 25_000)
    forecast, built = _forecast_and_built(conn, ROWS)
    assert built / 1.1 < forecast < built * 1.5, (forecast, built)
