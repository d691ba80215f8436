"""What-if costing with HypoPG: hypothetical indexes the planner sees but nobody builds.

Hypothetical indexes live in this backend's memory only; ``session`` always
resets them, so a crash or an error leaves nothing behind on the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from .. import ddl
from .candidates import Candidate


@contextmanager
def session(conn: psycopg.Connection[Any]) -> Iterator[Hypothetical]:
    # hypopg's fake OIDs run out after a few thousand indexes; on a primary it can
    # borrow real ones instead (nothing is written to the catalog).
    in_recovery = conn.execute("SELECT /* pgtune */ pg_is_in_recovery()").fetchone()
    if in_recovery is not None and not in_recovery[0]:
        conn.execute("SET /* pgtune */ hypopg.use_real_oids = on")
    conn.execute("SELECT /* pgtune */ hypopg_reset()")
    try:
        yield Hypothetical(conn)
    finally:
        if not conn.closed:
            conn.execute("SELECT /* pgtune */ hypopg_reset()")


class Hypothetical:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.names: dict[str, int] = {}   # hypopg's index name -> candidate position

    def create(self, position: int, cand: Candidate) -> tuple[str, int]:
        """Create ``cand`` hypothetically; return hypopg's index name and its estimated size."""
        stmt = ddl.create_index(cand.table[0], cand.table[1], "pgtune_hypo", cand.keys, concurrently=False,
                                where=cand.where, include=cand.include)
        row = self.conn.execute("SELECT /* pgtune */ indexname, hypopg_relation_size(indexrelid) "
                                "FROM hypopg_create_index(%s)", (stmt,)).fetchone()
        assert row is not None
        name, size = row
        self.names[name] = position
        estimate = int(size or 0)
        if cand.where_fraction is not None:
            # hypopg sizes a partial index like a full one; scale by the rows its predicate keeps.
            estimate = max(8192, int(estimate * cand.where_fraction))
        return name, estimate

    def reset(self) -> None:
        self.conn.execute("SELECT /* pgtune */ hypopg_reset()")
        self.names.clear()
