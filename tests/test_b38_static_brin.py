"""b38: a BRIN on a large table that is never written (a reporting copy loaded once and read), as on one appended to.

The shape is an analytics app's page-view log (a Prisma model with a site, a path and a timestamp, read by date
ranges), copied once into a reporting database: its load came before the counters' window (``steady_state``), so
pg_stat_user_tables shows no insert, update or delete. Its rows keep their physical order as well as an appended
table's do; one whose rows are updated in place (HOT updates, which ``writes`` does not count) gets no BRIN.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Advice, AnalyzedStatement, Method, beyond, kinds
from pgtune.analyze.extended_stats import Planned
from pgtune.capture import read_catalog

from .helpers import steady_state

COPY = """
CREATE TABLE "PageView" (id bigint PRIMARY KEY, "siteId" text NOT NULL, path text NOT NULL,
                         "viewedAt" timestamptz NOT NULL) WITH (fillfactor = {fillfactor});
INSERT INTO "PageView"
SELECT g, 'site' || g % 40, '/p/' || g % 997, timestamptz '2026-01-01' + g * interval '10 seconds'
FROM generate_series(1, 150000) AS g {order};
ANALYZE "PageView";
"""
RANGE = 'SELECT count(*) FROM "PageView" WHERE "viewedAt" >= $1 AND "viewedAt" < $2'
VALUES = {"$1": "2026-01-03", "$2": "2026-01-05"}


def _report_copy(conn: psycopg.Connection[Any], fillfactor: int = 100, order: str = "") -> None:
    """The copy loaded, analyzed, and its load left before the window (no writes in the counters)."""
    conn.execute(COPY.format(fillfactor=fillfactor, order=order))
    steady_state(conn)


def _brins(conn: psycopg.Connection[Any]) -> Advice:
    advice = Advice(Method.HYPOPG, statements=[AnalyzedStatement(1, RANGE, 100, 20.0, cost_before=3000.0,
                                                                 values=dict(VALUES))])
    beyond.extend(conn, read_catalog(conn), advice, trial=None, use_hypopg=True, writes=None, write_scale=0.0,
                  say=lambda _m: None)
    return advice


def _counters(conn: psycopg.Connection[Any]) -> tuple[int, int, int]:
    table = read_catalog(conn).tables[("public", "PageView")]
    return table.writes, table.deletes, table.dead_rows


def _candidates(conn: psycopg.Connection[Any]) -> list[tuple[str, str, str]]:
    """The GIN/BRIN candidates the range read makes: (column, method, evidence)."""
    found = kinds.candidates(read_catalog(conn), [Planned(RANGE, 1, 10, dict(VALUES))])
    return [(c.key.column, str(c.method), c.evidence) for c in found]


def test_a_large_table_never_written_gets_a_brin_candidate_on_its_ordered_date(conn: psycopg.Connection[Any]) -> None:
    _report_copy(conn)
    assert _counters(conn) == (0, 0, 0)
    [(column, method, evidence)] = _candidates(conn)
    assert (column, method) == ("viewedAt", "brin")
    assert "correlation +1.00" in evidence and "not written" in evidence, evidence


@pytest.mark.needs_hypopg
def test_the_never_written_tables_brin_is_proposed_costed_by_hypopg(conn: psycopg.Connection[Any]) -> None:
    _report_copy(conn)
    advice = _brins(conn)
    assert [(ix.columns, str(ix.method), ix.costed_by) for ix in advice.indexes] == [
        (["viewedAt"], "brin", "hypopg")], advice.hints
    assert "not written" in advice.indexes[0].reason, advice.indexes[0].reason


def test_a_large_table_updated_in_place_by_hot_updates_gets_no_brin(conn: psycopg.Connection[Any]) -> None:
    """Room on every page (fillfactor 50): each update stays on its page (HOT), which ``writes`` leaves out; the
    dead row versions it leaves tell it from a table no one writes."""
    _report_copy(conn, fillfactor=50)
    conn.execute("""UPDATE "PageView" SET path = path || '?' WHERE id % 30 = 0""")
    conn.execute("SELECT pg_stat_force_next_flush()")
    writes, deletes, dead = _counters(conn)
    assert (writes, deletes) == (0, 0) and dead > 0, (writes, deletes, dead)    # the updates were all HOT
    assert _candidates(conn) == []


def test_an_unwritten_table_with_no_ordered_column_turns_no_range_parsing_on(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Just after a counter reset every large table is unwritten: one whose columns follow no physical order
    (shuffled rows) could take no BRIN, so its range filters are not parsed (issue 28's cost)."""
    _report_copy(conn, order="ORDER BY md5(g::text)")
    parsed: list[str] = []
    real = kinds.table_filters

    def counted(query: str, *args: Any) -> Any:
        parsed.append(query)
        return real(query, *args)
    monkeypatch.setattr(kinds, "table_filters", counted)
    found = kinds.terms(read_catalog(conn), [Planned(RANGE, 1, 10, dict(VALUES))])
    assert found == [[]] and parsed == [], parsed
