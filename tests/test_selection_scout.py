"""Many statements and candidates on one table: the selection's what-if plans grow with the statements and their
useful indexes, not with statements x candidates (issue 28; analyze.scout), and the advice is as good."""

from __future__ import annotations

import itertools
from typing import Any

import psycopg
import pytest

from pgtune.capture import Statement

pytestmark = pytest.mark.needs_hypopg

COLUMNS = ("a", "b", "c", "d", "e", "f")


def _statements(conn: psycopg.Connection[Any]) -> list[Statement]:
    """An events table (site, six attribute columns, a time) and 30 statements: each filters a site and one
    attribute and sorts by another (an Umami-shaped log's ad hoc reports), so each asks for its own index."""
    conn.execute("CREATE TABLE ev (id int PRIMARY KEY, site int, a int, b int, c int, d int, e int, f int, "
                 "at timestamptz, note text)")
    conn.execute("INSERT INTO ev SELECT g, g % 40, g % 7, g % 11, g % 13, g % 17, g % 19, g % 23, "
                 "timestamptz '2026-01-01' + g * interval '1 minute', md5(g::text) FROM generate_series(1, 60000) g")
    conn.execute("VACUUM ANALYZE ev")
    pairs = list(itertools.permutations(COLUMNS, 2))
    return [Statement(query=f"SELECT id, note FROM ev WHERE site = {n % 40} AND {x} = {n % 5} ORDER BY {y} LIMIT 20",
                      queryid=n + 1, calls=10 + n) for n, (x, y) in enumerate(pairs)]


def _suggest(conn: psycopg.Connection[Any], statements: list[Statement]) -> Any:
    from pgtune import api
    from pgtune.analyze import Options

    return api.suggest(conn, api.SuggestOptions(Options(min_rows=100), constraints=False),
                       statements=statements).indexes


def test_plans_grow_with_the_statements_not_with_their_candidates(conn: psycopg.Connection[Any],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from pgtune.analyze import advisor, scout

    monkeypatch.setattr(scout, "CROWDED", 1)      # 30 statements x about 40 candidates: scouted however few
    statements = _statements(conn)
    scouted = _suggest(conn, statements)
    assert scouted.indexes
    # Without the scouting every candidate leading with ``site`` (the 30 statements' own, the single columns, and
    # the widenings of each chosen one) reaches all 30 statements at each of its evaluations: 20,296-22,652 plans
    # (677-755 a statement) here. With it, a statement is planned for its useful indexes and their kin: 870.
    per_statement = scouted.what_if_calls / len(statements)
    assert per_statement < 50, f"{scouted.what_if_calls} what-if plans for {len(statements)} statements"
    # As good: the workload's planned cost with the advice within 2% of the unscouted selection's (59,793 and 59,817
    # here). Without the stand-ins (a wide index planned for the statements its prefix served) it was 630,007: the
    # prefix ``(site)`` was chosen first and no statement's own index could take its place.
    monkeypatch.setattr(advisor, "_uses", lambda *args: None)     # as below CROWDED
    conn.execute("DROP TABLE ev")
    plain = _suggest(conn, _statements(conn))
    assert plain.what_if_calls > 2 * scouted.what_if_calls
    assert scouted.workload_cost_after <= plain.workload_cost_after * 1.02, (
        scouted.workload_cost_after, plain.workload_cost_after)
