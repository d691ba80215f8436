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
