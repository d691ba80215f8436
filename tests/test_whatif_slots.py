"""A pipeline of what-if questions that each want another index on the same table is one round trip: an index
made earlier in the same pipeline is dropped by the slot its oid is kept in (whatif._MADE), not after a sync
that waits for the oid (issue 28: 17,000 of benchmarks/speed.py's round trips at 5,000 statements were that
wait). The answers are those of the questions asked one at a time, and nothing is left behind on the server."""

from __future__ import annotations

import itertools
from typing import Any

import psycopg
import pytest

from pgtune.analyze.analysis import Analysis
from pgtune.analyze.bind import bind
from pgtune.analyze.calibration import Pricing
from pgtune.analyze.candidates import Candidate
from pgtune.analyze.costing import Costing, what_if
from pgtune.analyze.model import AnalyzedStatement
from pgtune.capture import Statement, read_catalog
from pgtune.ddl import IndexKey
from pgtune.explain_script import Wire

pytestmark = pytest.mark.needs_hypopg

COLUMNS = [f"c{i}" for i in range(6)]


def test_questions_that_drop_an_index_made_in_the_same_pipeline_share_its_round_trip(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    conn.execute(f"CREATE TABLE wide (id int PRIMARY KEY, {', '.join(f'{c} int' for c in COLUMNS)})")
    conn.execute(f"INSERT INTO wide SELECT g, {', '.join(f'g % {97 + i}' for i in range(len(COLUMNS)))} "
                 "FROM generate_series(1, 20000) g")
    conn.execute("VACUUM ANALYZE wide")
    catalog = read_catalog(conn)
    analyses = {}
    for n, c in enumerate(COLUMNS):
        st = Statement(query=f"SELECT id FROM wide WHERE {c} IN (1, 2, 3, 4, 5, 6, 7, 8)", queryid=n, calls=1)
        analyses[c] = Analysis(st, bind(st.query, catalog), AnalyzedStatement.of(st))
    # Each question another index (or two) on the one table, and some the same ones again after others: every
    # question but the first drops what the one before it made in the same pipeline.
    one = [(analyses[a], [Candidate(("public", "wide"), (IndexKey(a), IndexKey(b)), 1)])
           for a, b in itertools.permutations(COLUMNS, 2)]
    two = [(analyses[a], [Candidate(("public", "wide"), (IndexKey(a),), 1),
                          Candidate(("public", "wide"), (IndexKey(b),), 1)])
           for a, b in itertools.combinations(COLUMNS, 2)]
    questions = [*one, *two, *one[:5]]
    syncs: list[int] = []
    real_sync = Wire.sync

    def sync(self: Wire) -> None:
        if self.unsynced:
            syncs.append(1)
        real_sync(self)

    monkeypatch.setattr(Wire, "sync", sync)
    with what_if(Costing(conn, catalog), Pricing(catalog)) as w:
        pipelined = w.cost_many(questions)
        assert len(syncs) == 1, len(syncs)
        one_by_one = [w.cost(a, config) for a, config in questions]
        # What the session holds is what the server has: an index dropped by its slot is gone there too.
        made = conn.execute(f"SELECT count(*) FROM {w.hypo.h}hypopg_list_indexes").fetchone()
        assert made is not None and made[0] == sum(len(v) for v in w.hypo.present.values())
        assert w.hypo.calibration is not None and len(w.hypo.calibration.descents) <= made[0]
    assert pipelined == one_by_one
    assert len(set(pipelined)) > 1          # the indexes made a difference: each question saw its own


def test_drops_by_oid_alone_plan_no_slot_union(conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The union that reads slots is planned only where an index made in the same pipeline goes: a drop whose oids
    are known is the statement it always was (the union was about a fifth of its backend CPU)."""
    for t in ("a", "b"):
        conn.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, c0 int, c1 int)")
        conn.execute(f"INSERT INTO {t} SELECT g, g % 97, g % 89 FROM generate_series(1, 20000) g")
        conn.execute(f"VACUUM ANALYZE {t}")
    catalog = read_catalog(conn)

    def question(t: str, c: str) -> tuple[Analysis, list[Candidate]]:
        st = Statement(query=f"SELECT id FROM {t} WHERE {c} = 5", queryid=hash((t, c)), calls=1)
        return Analysis(st, bind(st.query, catalog), AnalyzedStatement.of(st)), [
            Candidate(("public", t), (IndexKey(c),), 1)]

    texts: list[str] = []
    real = Wire.execute

    def execute(self: Wire, query: str, *args: Any, **kwargs: Any) -> Any:
        texts.append(query)
        return real(self, query, *args, **kwargs)

    monkeypatch.setattr(Wire, "execute", execute)
    with what_if(Costing(conn, catalog)) as w:
        w.cost_many([question("a", "c0"), question("b", "c0")])
        w.cost_many([question("a", "c1"), question("b", "c1")])     # drops the indexes of the pipeline before
        assert texts and not any("UNION ALL" in t for t in texts)
        w.cost_many([question("a", "c0"), question("a", "c1")])     # drops one made in the same pipeline
        assert any("UNION ALL" in t for t in texts)


def test_one_question_wanting_more_indexes_than_the_slots_is_still_asked(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """r10: a question whose indexes alone exceed MAX_SLOTS (a partitioned table HypoPG refuses takes one index
    per leaf: 3 candidates on 400 leaves) was refused again after the sync, and suggest stopped on an assert."""
    from pgtune.analyze import whatif

    conn.execute(f"CREATE TABLE wide (id int PRIMARY KEY, {', '.join(f'{c} int' for c in COLUMNS)})")
    conn.execute(f"INSERT INTO wide SELECT g, {', '.join(f'g % {97 + i}' for i in range(len(COLUMNS)))} "
                 "FROM generate_series(1, 20000) g")
    conn.execute("VACUUM ANALYZE wide")
    catalog = read_catalog(conn)
    st = Statement(query="SELECT id FROM wide WHERE c0 = 5 AND c1 = 7", queryid=1, calls=1)
    a = Analysis(st, bind(st.query, catalog), AnalyzedStatement.of(st))
    config = [Candidate(("public", "wide"), (IndexKey(c),), 1) for c in ("c0", "c1")]
    monkeypatch.setattr(whatif, "MAX_SLOTS", 1)
    with what_if(Costing(conn, catalog), Pricing(catalog)) as w:
        [pipelined] = w.cost_many([(a, config)])
        assert pipelined == w.cost(a, config)
