"""The workload as pg_stat_statements shows it, statement by statement: who ran what, and what it relies on.

Per statement of the database: its role, its calls, the length of its text
and its kind — a query, or a session-level feature a transaction-mode pooler
does not carry from one transaction to the next (SET, PREPARE, session
advisory locks, LISTEN, temporary tables, WITH HOLD cursors), or DISCARD ALL,
the reset a session pooler runs between clients. From it: how many queries
each role ran (work_mem's scope), which session features the application
uses (what a pooler changes for it), and which texts are longer than
track_activity_query_size (pg_stat_activity cuts them there).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from .. import catalog_sql


class Kind(StrEnum):
    QUERY = "query"
    SET = "set"                          # SET / RESET outside SET LOCAL: session state
    PREPARE = "prepare"                  # SQL-level PREPARE / EXECUTE / DEALLOCATE
    ADVISORY_LOCK = "advisory-lock"      # pg_advisory_lock and friends, held by the session
    LISTEN = "listen"
    TEMPORARY_TABLE = "temporary-table"
    HOLD_CURSOR = "hold-cursor"          # DECLARE … WITH HOLD: lives past its transaction
    DISCARD_ALL = "discard-all"          # a session pooler's server_reset_query
    OTHER = "other"


SESSION_FEATURES = (Kind.SET, Kind.PREPARE, Kind.ADVISORY_LOCK, Kind.LISTEN, Kind.TEMPORARY_TABLE, Kind.HOLD_CURSOR)


@dataclass(frozen=True)
class Entry:
    queryid: int | None
    role: str
    calls: int
    total_ms: float
    text_bytes: int
    kind: Kind
    example: str | None        # the text, for session features only
    wal_bytes: float = 0.0
    maintenance: bool = False  # DDL or maintenance: CREATE INDEX, COPY, VACUUM, ALTER…


ONE_OFF_CALLS = 3      # a statement run this few times in the window is an event (a load), not the workload


@dataclass(frozen=True)
class RoleQueries:
    """The queries one role ran: distinct statements, calls, execution time."""

    statements: int = 0
    calls: int = 0
    ms: float = 0.0


@dataclass(frozen=True)
class Feature:
    kind: Kind
    statements: int
    calls: int
    example: str


@dataclass(frozen=True)
class Workload:
    entries: tuple[Entry, ...] = ()

    def minus(self, before: Workload) -> Workload:
        """What ran between two readings: calls as differences, statements that did not run left out."""
        old = {(e.queryid, e.role): e for e in before.entries}
        out = []
        for e in self.entries:
            prev = old.get((e.queryid, e.role))
            calls = e.calls - (prev.calls if prev else 0)
            if calls > 0:
                out.append(replace(e, calls=calls, total_ms=e.total_ms - (prev.total_ms if prev else 0.0),
                                   wal_bytes=e.wal_bytes - (prev.wal_bytes if prev else 0.0)))
        return Workload(tuple(out))

    def wal(self) -> float:
        """The WAL the statements wrote (pg_stat_statements.wal_bytes)."""
        return sum(max(e.wal_bytes, 0.0) for e in self.entries)

    def one_off_wal(self) -> tuple[float, int]:
        """The share of the statements' WAL that maintenance and one-off statements wrote, and how many they are.

        A load (COPY, an INSERT … SELECT run once or twice) or an index build
        fills WAL fast and requests checkpoints; sizing max_wal_size and
        wal_buffers for it sizes them for an event, not for the application.
        """
        total = self.wal()
        if total <= 0:
            return 0.0, 0
        odd = [e for e in self.entries if e.wal_bytes > 0 and (e.maintenance or e.calls <= ONE_OFF_CALLS)]
        return sum(e.wal_bytes for e in odd) / total, len(odd)


    def queries(self) -> dict[str, RoleQueries]:
        """Per role: the query statements it ran, their calls and time."""
        out: dict[str, RoleQueries] = defaultdict(RoleQueries)
        for e in self.entries:
            if e.kind == Kind.QUERY and e.calls > 0:
                r = out[e.role]
                out[e.role] = RoleQueries(r.statements + 1, r.calls + e.calls, r.ms + e.total_ms)
        return dict(out)

    def features(self, kinds: tuple[Kind, ...] = SESSION_FEATURES) -> list[Feature]:
        """The session features the workload used, most called first, each with an example."""
        found: dict[Kind, list[Entry]] = defaultdict(list)
        for e in self.entries:
            if e.kind in kinds and e.calls > 0:
                found[e.kind].append(e)
        out = [Feature(k, len(es), sum(e.calls for e in es),
                       max(es, key=lambda e: e.calls).example or "") for k, es in found.items()]
        return sorted(out, key=lambda f: (-f.calls, f.kind))

    def longer_than(self, nbytes: int) -> list[Entry]:
        """Statements whose text is at least ``nbytes`` long, longest first."""
        return sorted((e for e in self.entries if e.text_bytes >= nbytes), key=lambda e: -e.text_bytes)


def read(conn: psycopg.Connection[Any], view: sql.Composable) -> Workload:
    """Every statement of this database in ``view`` (the schema-qualified pg_stat_statements)."""
    query = sql.SQL(catalog_sql.load("config_statement_kinds")).format(statements=view)
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query)
        rows = cur.fetchall()
    return Workload(tuple(Entry(r["queryid"], r["role"], r["calls"], r["total_ms"], r["text_bytes"] or 0,
                                Kind(r["kind"]), r["example"], float(r["wal_bytes"] or 0.0), bool(r["maintenance"]))
                          for r in rows))
