"""One catalog query for "who holds pgtune's advisory lock" (c24, LOW).

history.died() wrote its own pg_locks query beside sql/advisory_lock_holder.sql, and the two differed: the
file matched the key's low 32 bits alone (no classid, no objsubid, its own session too), so a waiting applier
could name as the holder a session holding someone else's two-int4 advisory lock whose second key happens to
equal pgtune's. Both now read sql/advisory_lock_holder.sql: the whole key (classid, objid, objsubid 1,
database), another session only.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest

from pgtune.apply import ADVISORY_KEY
from pgtune.apply.lock import AdvisoryLock
from pgtune.errors import LockBusy
from pgtune.history import History
from pgtune.plan import Direction

LOW = ADVISORY_KEY & 0xFFFFFFFF
LOW_INT4 = LOW - (1 << 32) if LOW >= 1 << 31 else LOW


def _others_locks(conn: psycopg.Connection[Any]) -> None:
    """Another application's advisory locks, pg_advisory_lock(int4, int4): objid is pgtune's low 32 bits."""
    for k in range(1, 41):
        conn.execute("SELECT pg_advisory_lock(%s::int4, %s::int4)", (k, LOW_INT4))


def test_a_waiting_applier_names_the_applier_not_another_apps_lock(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as other, psycopg.connect(db, autocommit=True) as applier, \
            psycopg.connect(db, autocommit=True) as waiter:
        _others_locks(other)
        other_pid, applier_pid = other.info.backend_pid, applier.info.backend_pid
        with AdvisoryLock(applier, ADVISORY_KEY, wait=0, say=lambda _: None), pytest.raises(LockBusy) as busy, \
                AdvisoryLock(waiter, ADVISORY_KEY, wait=0, say=lambda _: None):
            pass
        # Without the fix the 40 locks of the other application matched too, and one of them was named.
        named = re.search(r"backend pid (\d+)", str(busy.value))
        assert named is not None and int(named.group(1)) == applier_pid != other_pid, str(busy.value)


def test_a_live_applier_is_never_called_dead(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn, psycopg.connect(db, autocommit=True) as applier, \
            psycopg.connect(db, autocommit=True) as other:
        history = History(conn, "2026-12-c24")
        history.ensure()
        history.start(1, Direction.UP, "CREATE INDEX CONCURRENTLY i ON t (a)", "sum", "index:public.i")
        _others_locks(other)            # someone else's locks do not keep a dead run alive…
        assert history.died(ADVISORY_KEY) == {1}
        with AdvisoryLock(applier, ADVISORY_KEY, wait=0, say=lambda _: None):
            assert history.died(ADVISORY_KEY) == set()      # …pgtune's, held by a live applier, does
            # The applier's own session, which holds the lock, still finds a run that died before it took it.
            assert History(applier, "2026-12-c24").died(ADVISORY_KEY) == {1}
        assert history.died(ADVISORY_KEY) == {1}
