"""A proposal narrowed by dependent_keys gets HypoPG's estimate of the narrower index (session 24 LOW, lead).

dependent_keys.narrow takes out a key the others determine and forecasts the
narrower index (m10), but its ``estimated_bytes`` stayed HypoPG's size of the
four-key index, which the JSON and the curve's HypoPG MB then reported.
replan.again makes the narrowed proposal hypothetically to plan the
statements again, and takes its size from there.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import replan
from pgtune.analyze.dependent_keys import review
from pgtune.analyze.model import Advice, AnalyzedStatement, Method
from pgtune.capture import read_catalog

from .test_q9_dependent_keys import LOOKUP, SCHEMA, _proposal


def _hypopg_bytes(conn: psycopg.Connection[Any], statement: str) -> int:
    conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
    row = conn.execute("SELECT hypopg_relation_size(indexrelid) FROM hypopg_create_index(%s)",
                       (statement,)).fetchone()
    conn.execute("SELECT hypopg_reset()")
    assert row is not None
    return int(row[0])


@pytest.mark.needs_hypopg
def test_a_narrowed_proposal_gets_the_narrower_index_estimate(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    chosen = _proposal("projectId", "taskIdentifier", "runtimeEnvironmentId", "status")
    wide = _hypopg_bytes(conn, 'CREATE INDEX ON "TaskRun" ("projectId", "taskIdentifier", "runtimeEnvironmentId", '
                               "status)")
    chosen.estimated_bytes = wide
    lookup = AnalyzedStatement(1, LOOKUP, 500, 3.0, cost_before=9000.0, cost_after=12.0, indexes=[chosen.name])
    advice = Advice(Method.HYPOPG, indexes=[chosen], statements=[lookup])
    catalog = read_catalog(conn)
    review(conn, catalog, advice)
    replan.again(conn, catalog, advice)
    [narrowed] = advice.indexes
    assert narrowed.columns == ["taskIdentifier", "runtimeEnvironmentId", "status"]
    narrow = _hypopg_bytes(conn, 'CREATE INDEX ON "TaskRun" ("taskIdentifier", "runtimeEnvironmentId", status)')
    assert narrow < wide
    assert narrowed.estimated_bytes == narrow, (narrowed.estimated_bytes, narrow, wide)    # the wide one's before
