"""What-if costing with HypoPG: hypothetical indexes the planner sees but nobody builds.

Hypothetical indexes live in this backend's memory only; ``session`` always
resets them, so a crash or an error leaves nothing behind on the server.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from .. import ddl
from ..capture import TableKey
from .candidates import Candidate
from .selection import Ident, ident


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
        self.present: dict[Ident, tuple[int, str]] = {}   # what the planner sees now: oid, name
        self.sizes: dict[Ident, int] = {}

    def ensure(self, cands: list[Candidate], tables: Collection[TableKey] | None = None) -> dict[str, Ident]:
        """Make the planner see exactly ``cands`` on ``tables`` (all tables when None).

        Consecutive what-if questions differ by an index or two, so this is one
        or two hypopg calls, not a rebuild; indexes on other tables stay, as
        they cannot change the plan. Returns hypopg name -> candidate.
        """
        want = {ident(c): c for c in cands}
        for key in [k for k in self.present if k not in want and (tables is None or k[0] in tables)]:
            oid, _ = self.present.pop(key)
            self.conn.execute("SELECT /* pgtune */ hypopg_drop_index(%s)", (oid,))
        for key, cand in want.items():
            if key not in self.present:
                self.create(-1, cand)
        return {name: key for key, (_, name) in self.present.items()}

    def size(self, cand: Candidate) -> int:
        """HypoPG's size estimate for ``cand`` (created once if it never was)."""
        key = ident(cand)
        if key not in self.sizes:
            keep = list(self.present)
            self.create(-1, cand)
            if key not in keep:
                oid, _ = self.present.pop(key)
                self.conn.execute("SELECT /* pgtune */ hypopg_drop_index(%s)", (oid,))
        return self.sizes[key]

    def create(self, position: int, cand: Candidate) -> tuple[str, int]:
        """Create ``cand`` hypothetically; return hypopg's index name and its estimated size."""
        stmt = ddl.create_index(cand.table[0], cand.table[1], "pgtune_hypo", cand.keys, concurrently=False,
                                where=cand.where, include=cand.include)
        row = self.conn.execute("SELECT /* pgtune */ indexrelid, indexname, hypopg_relation_size(indexrelid) "
                                "FROM hypopg_create_index(%s)", (stmt,)).fetchone()
        assert row is not None
        oid, name, size = row
        self.names[name] = position
        self.present[ident(cand)] = (int(oid), name)
        estimate = int(size or 0)
        if cand.where_fraction is not None:
            # hypopg sizes a partial index like a full one; scale by the rows its predicate keeps.
            estimate = max(8192, int(estimate * cand.where_fraction))
        self.sizes[ident(cand)] = estimate
        return name, estimate

    def reset(self) -> None:
        self.conn.execute("SELECT /* pgtune */ hypopg_reset()")
        self.names.clear()
        self.present.clear()
