"""An existing index is dropped only for one that serves all it does, and the drop's comment names both.

Found on an Inbox-Zero-shaped database (session 26, p17), in heuristic mode (no HypoPG, as on PostgreSQL 18; the
tests force it so they run the same on every server):
- phase 3's comment read "-- X_incl_inbox_read_sent_idx serves all it does; dropped once X_incl_inbox_read_sent_idx
  is built and valid": the new index twice, the dropped one nowhere.
- dependent_keys.narrow took "account" out of ("account", day) (day determines account in the table: g % 300 and
  g % 100) but kept "makes existing ev_account_idx redundant": the migration dropped the only index on "account" for
  one on day alone, which serves no lookup by account.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from pgtune import api
from pgtune.analyze import Options
from pgtune.plan import Migration

from .helpers import run
from .test_replaced_indexes import BY_DAY, EVENTS


def _emitted(conn: psycopg.Connection[Any], folder: Path, table: str) -> Migration:
    conn.execute(table)
    conn.execute("VACUUM ANALYZE ev")
    conn.execute("SELECT pg_stat_statements_reset()")
    run(conn, BY_DAY, [(i, f"2026-03-{1 + i % 20:02d}", f"2026-03-{4 + i % 20:02d}") for i in range(20)], times=3)
    result = api.suggest(conn, api.SuggestOptions(Options(min_rows=100, use_hypopg=False), constraints=False),
                         emit=api.EmitOptions(directory=folder))
    assert result.migration is not None
    return result.migration


def test_the_drop_s_reason_names_the_old_index_and_its_replacement(conn: psycopg.Connection[Any],
                                                                    tmp_path: Path) -> None:
    m = _emitted(conn, tmp_path / "m", EVENTS)           # g % 97: day does not determine account
    [old] = m.phases[-1].existing
    assert old.name == "ev_account_idx", old
    assert old.reason == f"{old.served_by} serves all ev_account_idx does; ev_account_idx is dropped once " \
                         f"{old.served_by} is built and valid", old.reason
    script = (tmp_path / "m" / f"{m.phases[-1].number:02d}_up.sql").read_text()
    assert f"-- {old.reason}" in script


def test_a_narrowed_proposal_drops_no_index_it_does_not_serve(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = _emitted(conn, tmp_path / "m", EVENTS.replace("g % 97", "g % 100"))     # day (g % 300) determines account
    [ix] = [ix for p in m.phases for ix in p.indexes]
    assert ix.ddl.endswith("ON public.ev (day)"), ix           # "account" left out: day determines it here
    assert not [e.name for p in m.phases for e in p.existing], m.phases
    assert "redundant" not in ix.reason, ix.reason
