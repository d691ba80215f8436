"""What-if answers are read while the questions after them are sent (issue 28): one pipeline per call, its plans
read back as they come (explain_script.Wire: a Flush after each question, no sync), so the server plans while
pgtune makes the next questions and reads the last answers. The answers are those of the questions asked one at
a time, the call is one round trip however many questions it holds, and the plans' READ ONLY transaction still
ends every MAX_ASKS questions (the locks it holds stay bounded)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import batch
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


def test_answers_are_read_before_the_pipeline_is_synced(conn: psycopg.Connection[Any],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    tables = [f"t{i}" for i in range(6)]
    for t in tables:
        conn.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, a int, b int)")
        conn.execute(f"INSERT INTO {t} SELECT g, g % 97, g % 89 FROM generate_series(1, 20000) g")
        conn.execute(f"VACUUM ANALYZE {t}")
    catalog = read_catalog(conn)
    questions = []
    for n, (t, c) in enumerate((t, c) for t in tables for c in ("a", "b")):
        st = Statement(query=f"SELECT id FROM {t} WHERE {c} = $1", queryid=n, calls=1)
        a = Analysis(st, bind(st.query, catalog), AnalyzedStatement.of(st))
        questions += [(a, [Candidate(("public", t), (IndexKey(c),), 1)]), (a, [])]
    monkeypatch.setattr(batch, "MAX_PENDING", 4)     # the client reads once this many statements are in flight
    monkeypatch.setattr(batch, "MAX_ASKS", 5)
    synced: list[int] = []
    picked: list[int] = []
    sent: list[str] = []
    real_sync, real_execute, real_pick = Wire.sync, Wire.execute, Costing.pick

    def sync(self: Wire) -> None:
        if self.unsynced:
            synced.append(len(picked))
        real_sync(self)

    def execute(self: Wire, query: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(query)
        return real_execute(self, query, *args, **kwargs)

    def pick(self: Costing, *args: Any) -> Any:
        picked.append(1)
        return real_pick(self, *args)

    monkeypatch.setattr(Wire, "sync", sync)
    monkeypatch.setattr(Wire, "execute", execute)
    monkeypatch.setattr(Costing, "pick", pick)
    with what_if(Costing(conn, catalog), Pricing(catalog)) as w:
        pipelined = w.cost_many(questions)
        assert len(synced) == 1, synced             # one round trip for the call
        assert synced[0] >= len(questions) - 4, (synced, len(questions))   # most answers read before it
        monkeypatch.setattr(Wire, "sync", real_sync)
        one_by_one = [w.cost(a, config) for a, config in questions]
    assert pipelined == one_by_one
    assert len(set(pipelined)) > 1          # the indexes made a difference: each question saw its own
    # The transaction ends every MAX_ASKS questions: 24 questions, 5 transactions.
    assert sum(q.startswith("BEGIN") for q in sent) == 5, [q for q in sent if q.startswith(("BEGIN", "ROLLBACK"))]
    assert not conn.execute("SELECT count(*) FROM pg_catalog.pg_locks WHERE pid = pg_backend_pid() "
                            "AND locktype = 'relation' AND relation::regclass::text LIKE 't%'").fetchone()[0]
