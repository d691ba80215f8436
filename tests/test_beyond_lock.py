"""The GIN/BRIN pass stops on another session's lock, as the b-tree costing does (u13).

Behind a migration's ACCESS EXCLUSIVE, the pass's EXPLAINs gave up after the
reading lock_timeout and the candidate was listed as "not costed", the lock
and its holder unnamed, while the b-tree pass stops the command (exit 2) and
names the holder. A lock is the session's state, not the candidate's.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Advice, AnalyzedStatement, Method, beyond
from pgtune.capture import read_catalog
from pgtune.connect import no_lock_queue
from pgtune.errors import DatabaseError

from .helpers import exclusive_lock
from .test_index_kinds import EVENTS, WEEK, flushed


@pytest.mark.needs_hypopg
def test_a_lock_held_on_the_table_stops_the_pass_naming_its_holder(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(EVENTS)
    flushed(conn)
    catalog = read_catalog(conn)
    statements = [AnalyzedStatement(1, WEEK, 100, 20.0, cost_before=3000.0,
                                    values={"$1": "2026-01-03", "$2": "2026-01-05"})]
    advice = Advice(Method.HYPOPG, statements=statements)
    with exclusive_lock(db, "Event") as pid, pytest.raises(DatabaseError) as raised, no_lock_queue(conn):
        beyond.extend(conn, catalog, advice, trial=None, use_hypopg=True, writes=None, write_scale=0.0,
                      say=lambda _m: None)
    assert raised.value.exit_code == 2
    assert f"pid {pid} holds ACCESS EXCLUSIVE on public.\"Event\"" in str(raised.value), str(raised.value)
    assert not any("not costed" in h for h in advice.hints), advice.hints
