"""u10 (Langfuse tryout): a spill smaller than half of work_mem got advice to SET LOCAL the work_mem it spilled under.

Langfuse's job-execution status counts (a GROUP BY over a big tenant's rows)
wrote 1.7 MB of temporary files a call under the server's work_mem of 4 MB;
twice the spill, rounded up to a power of two, is 4 MB, and `pgtune config`
advised ``SET LOCAL work_mem = '4MB'``: the value the statement had already
spilled under, so following the advice changed nothing. A sort's tuples take
more room in memory than in its file; when the need comes out at or below the
value the statement ran under, the advice is twice that value.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune import api
from pgtune.config import Symptom
from pgtune.config.units import parse_size

from .test_config_symptoms import HARDWARE, app, around

ROLE = "u10_clerk"
CLERK_QUERIES = ["SELECT id FROM big WHERE id = %s" + " AND id > 0" * i for i in range(12)]   # 12 shapes
# 45,000 md5 strings: too many for a 4 MB in-memory sort, ~1.9 MB of temporary file on disk.
REPORT = "SELECT count(*) FROM (SELECT t FROM big ORDER BY t OFFSET 1) s"


def _spilled_bytes(c: psycopg.Connection[Any]) -> int:
    """The temporary bytes REPORT's sort writes on this server (EXPLAIN ANALYZE)."""
    row = c.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + REPORT).fetchone()
    assert row is not None

    def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield plan
        for child in plan.get("Plans", []):
            yield from nodes(child)

    return max(int(n.get("Temp Written Blocks", 0)) for n in nodes(row[0][0]["Plan"])) * 8192


@pytest.fixture
def clerk(db: str) -> Iterator[str]:
    with app(db) as c:
        c.execute("CREATE TABLE big AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 45000) g")
        c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(ROLE)))
        c.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(ROLE)))
        c.execute(sql.SQL("GRANT SELECT ON big TO {}").format(sql.Identifier(ROLE)))
        if c.execute("SELECT current_setting('work_mem')").fetchone() != ("4MB",):
            pytest.skip("the spill this test sizes is for the default work_mem of 4MB")
        spill = _spilled_bytes(c)
        if not 1 << 20 <= spill < 2 << 20:     # PostgreSQL 18 sorts the 45,000 strings in memory
            pytest.skip(f"this server's sort of 45,000 strings spills {spill:,} bytes, not 1-2 MB, under 4MB")
    yield db
    with app(db) as c:
        c.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(ROLE)))
        c.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(ROLE)))


def test_a_spill_under_half_of_work_mem_gets_a_larger_work_mem_that_ends_it(clerk: str) -> None:
    def load(advised: str | None) -> None:
        with app(clerk, ROLE) as c:
            for i, q in enumerate(CLERK_QUERIES * 3):
                c.execute(q, (i,)).fetchall()
            with c.transaction():
                if advised is not None:         # the application does what the advice says
                    c.execute(sql.SQL("SET LOCAL work_mem = {}").format(sql.Literal(advised)))
                c.execute(REPORT).fetchone()

    with app(clerk) as conn:
        report = api.config(conn, HARDWARE, evidence=around(conn, lambda: load(None)))
        (advice,) = [a for a in report.advice if a.symptom == Symptom.TEMP_SPILL]
        (spilled,) = advice.evidence["statements"]
        assert 1 << 20 <= spilled["temp_bytes_per_call"] < 2 << 20     # under half of work_mem
        advised = advice.evidence["work_mem"]
        assert parse_size(advised) > 4 << 20, advised                 # was '4MB': the value it spilled under
        again = around(conn, lambda: load(advised))
        ran = [s for s in again.statements if s.queryid == spilled["queryid"]]
        assert ran and ran[0].temp_blks_written == 0
