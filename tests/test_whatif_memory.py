"""create_all reads its answers back as it goes: a cursor and a result held per candidate until the pipeline's
end were about 6 kB each (60 MB of suggest's peak RSS at benchmarks/speed.py's 5,000 statements, issue 28)."""

from __future__ import annotations

import itertools
import tracemalloc
from typing import Any

import psycopg
import pytest

from pgtune.analyze import whatif
from pgtune.analyze.candidates import Candidate
from pgtune.analyze.selection import ident
from pgtune.ddl import IndexKey

pytestmark = pytest.mark.needs_hypopg

COLUMNS = [f"c{i}" for i in range(8)]


def test_create_all_holds_little_per_candidate(conn: psycopg.Connection[Any]) -> None:
    conn.execute(f"CREATE TABLE wide (id int PRIMARY KEY, {', '.join(f'{c} int' for c in COLUMNS)})")
    conn.execute(f"INSERT INTO wide SELECT g, {', '.join(f'g % {7 + i}' for i in range(len(COLUMNS)))} "
                 "FROM generate_series(1, 5000) g")
    conn.execute("ANALYZE wide")
    cands = [Candidate(("public", "wide"), tuple(IndexKey(c) for c in keys), 1)
             for n in (3, 4) for keys in itertools.permutations(COLUMNS, n)]
    assert len(cands) > 2000
    with whatif.session(conn) as hypo:
        tracemalloc.start()
        try:
            assert hypo.create_all(cands)
            held, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        # Every one made, and recorded under its own index, in the candidates' order.
        assert [k for k in hypo.present] == [ident(c) for c in cands]
        made = conn.execute("SELECT count(*) FROM hypopg()").fetchone()
        assert made is not None and made[0] == len(cands)
    # Beyond what the session keeps of each index (its name, OID, size): what waited to be read.
    assert (peak - held) / len(cands) < 1500, f"{(peak - held) / len(cands):.0f} bytes a candidate in flight"


def test_dropped_indexes_leave_no_descents_behind(conn: psycopg.Connection[Any]) -> None:
    """Selection makes and drops a hypothetical index per question: the descents calibration prices by each one's
    name were kept for the whole run (30-40 MB at benchmarks/speed.py's 20,000 statements, issue 28). They go once
    no plan in flight can read them, and every answer is still priced with them."""
    from pgtune.analyze.analysis import Analysis
    from pgtune.analyze.bind import bind
    from pgtune.analyze.calibration import Pricing
    from pgtune.analyze.costing import Costing, what_if
    from pgtune.analyze.model import AnalyzedStatement
    from pgtune.capture import Statement, read_catalog

    conn.execute(f"CREATE TABLE wide (id int PRIMARY KEY, {', '.join(f'{c} int' for c in COLUMNS)})")
    conn.execute(f"INSERT INTO wide SELECT g, {', '.join(f'g % {97 + i}' for i in range(len(COLUMNS)))} "
                 "FROM generate_series(1, 20000) g")
    conn.execute("VACUUM ANALYZE wide")
    catalog = read_catalog(conn)
    analyses = []
    for n, c in enumerate(COLUMNS):
        st = Statement(query=f"SELECT id FROM wide WHERE {c} IN (1, 2, 3, 4, 5, 6, 7, 8)", queryid=n, calls=1)
        analyses.append(Analysis(st, bind(st.query, catalog), AnalyzedStatement.of(st)))
    # Each question another index on the same table: the one before is dropped, its plan not read yet.
    questions = [(a, [Candidate(("public", "wide"), tuple(IndexKey(c) for c in keys), 1)])
                 for keys in itertools.permutations(COLUMNS, 2) for a in analyses if a.query.split()[5] == keys[0]]
    assert len(questions) == 56
    with what_if(Costing(conn, catalog)) as raw:
        uncharged = raw.cost_many(questions)
    with what_if(Costing(conn, catalog), Pricing(catalog)) as w:
        calibration = w.hypo.calibration
        assert calibration is not None
        pipelined = w.cost_many(questions)          # in pipelines (whatif.Hypothetical.queue)
        # One round trip now (an index made in it is dropped by the slot its oid is kept in): its plans are read
        # together, so its dropped indexes' descents are held until the next read, not one round's per question.
        assert w.cost_many(questions) == pipelined
        held_after_pipelines = len(calibration.descents)
        one_by_one = [w.cost(a, config) for a, config in questions]     # one at a time (ensure, drop)
        held_after_one_by_one = len(calibration.descents)
        names = dict(w.hypo.names)
    # Every answer was priced with its indexes' descents and pages (as calibration prices them, not as HypoPG)...
    assert pipelined == one_by_one
    assert all(priced != plain for priced, plain in zip(pipelined, uncharged, strict=True))
    # ...and what is left is the indexes present and those of the last reads, not one per question asked.
    assert held_after_pipelines <= len(questions) + 8, held_after_pipelines
    assert held_after_one_by_one <= 2, held_after_one_by_one
    assert names == {}       # selection's indexes credit no candidate (-1): none held by name


def test_a_candidate_is_keyed_by_one_tuple(conn: psycopg.Connection[Any]) -> None:
    """Selection and what-if costing key their dicts by a candidate's ident: one tuple per candidate, not one per
    dict and call (300,000 of them alive at greedy's end, 21 MB at benchmarks/speed.py's 20,000 statements).
    Checked by identity, not bytes: tracemalloc's count moved by ~200 bytes a candidate with the suite's order
    (986 here, 1,177 in one CI run), as much as the tuples it was meant to catch."""
    conn.execute(f"CREATE TABLE wide (id int PRIMARY KEY, {', '.join(f'{c} int' for c in COLUMNS)})")
    conn.execute("ANALYZE wide")
    cands = [Candidate(("public", "wide"), tuple(IndexKey(c) for c in keys), 1)
             for keys in itertools.permutations(COLUMNS, 3)]
    assert ident(cands[0]) is ident(cands[0])
    with whatif.session(conn) as hypo:
        assert hypo.create_all(cands)
        keyed: dict[str, Any] = {"present": hypo.present, "sizes": hypo.sizes,
                                 "on_table": hypo.on_table[("public", "wide")], "texts": {k: k for k, _ in hypo.texts}}
        for name, held in keyed.items():
            kept = {k: k for k in held}
            assert len(kept) == len(cands), name
            assert all(kept[ident(c)] is ident(c) for c in cands), f"{name} keeps its own tuple per candidate"


def test_a_candidates_sized_descent_is_made_once_per_size(conn: psycopg.Connection[Any],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Selection makes and drops the same candidates again and again: the descent priced with HypoPG's size is
    made once per candidate and size (a copy per index made was 116,000 at benchmarks/speed.py's 5,000 statements,
    1% of pgtune's CPU), and each index made is priced with it."""
    from pgtune.analyze.calibration import Descent, Pricing
    from pgtune.capture import read_catalog

    conn.execute("CREATE TABLE narrow (id int PRIMARY KEY, a int, b int)")
    conn.execute("INSERT INTO narrow SELECT g, g % 97, g % 13 FROM generate_series(1, 20000) g")
    conn.execute("VACUUM ANALYZE narrow")
    made: list[Descent] = []
    real = Descent.sized

    def sized(self: Descent, hypopg_bytes: int) -> Descent:
        made.append(self)
        return real(self, hypopg_bytes)

    monkeypatch.setattr(Descent, "sized", sized)
    cands = [Candidate(("public", "narrow"), (IndexKey(c),), 1) for c in ("a", "b")]
    with whatif.session(conn, pricing=Pricing(read_catalog(conn))) as hypo:
        assert hypo.calibration is not None
        priced = []
        for _ in range(3):
            for cand in cands:
                name, size = hypo.create(-1, cand)
                priced.append(hypo.calibration.descents[name])
                assert priced[-1].hypo_pages * 8192 == size
                hypo.drop(ident(cand))
    assert len(made) == len(cands)
    assert priced[:2] == priced[2:4] == priced[4:]
