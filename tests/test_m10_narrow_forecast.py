"""A proposal narrowed by dependent_keys (a key the others determine taken out) is forecast as the narrower
index (m10, LOW): its forecast_bytes stayed the four-key index's, which suggest's sizes, --max-index-mb and the
JSON then reported for the three-key index it proposes."""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.analyze.candidates import Candidate
from pgtune.analyze.dependent_keys import review
from pgtune.analyze.footprint import Footprint
from pgtune.analyze.model import Advice, AnalyzedStatement, Method
from pgtune.capture import read_catalog
from pgtune.ddl import IndexKey

from .test_q9_dependent_keys import LOOKUP, SCHEMA, _proposal


def _forecast(conn: psycopg.Connection[Any], *columns: str) -> int:
    catalog = read_catalog(conn)
    keys = tuple(IndexKey(c) for c in columns)
    return Footprint(conn, catalog, 0.0).forecast(Candidate(("public", "TaskRun"), keys, len(keys)))


def test_a_narrowed_proposal_is_forecast_as_the_narrower_index(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    chosen = _proposal("projectId", "taskIdentifier", "runtimeEnvironmentId", "status")
    chosen.forecast_bytes = wide = _forecast(conn, *chosen.columns)
    lookup = AnalyzedStatement(1, LOOKUP, 500, 3.0, cost_before=9000.0, cost_after=12.0, indexes=[chosen.name])
    advice = Advice(Method.HYPOPG, indexes=[chosen], statements=[lookup])
    review(conn, read_catalog(conn), advice)
    [narrowed] = advice.indexes
    assert narrowed.columns == ["taskIdentifier", "runtimeEnvironmentId", "status"]
    assert narrowed.forecast_bytes == _forecast(conn, *narrowed.columns) < wide
    conn.execute(narrowed.ddl)
    row = conn.execute("SELECT pg_relation_size(%s::regclass)", (f'"{narrowed.name}"',)).fetchone()
    assert row is not None
    built = row[0]
    assert abs(narrowed.forecast_bytes - built) < abs(wide - built), (narrowed.forecast_bytes, wide, built)
    print(f"forecast narrowed {narrowed.forecast_bytes} (was {wide}), built {built}")
