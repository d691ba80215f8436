"""Evidence: the settings in force and the statistics that show a setting is wrong, as plain data.

A ``Snapshot`` is one reading of pg_settings, the role and database settings,
the cluster's database counters, checkpoints (pg_stat_bgwriter, or
pg_stat_checkpointer on 17+), WAL (pg_stat_wal), per-table tuples and
vacuums, the statements that spilled or compiled (pg_stat_statements) and the
sessions now. Counters count since their reset; ``window(a, b)`` turns two
readings into what happened between them (gauges — dead tuples, sessions — are
the second reading's).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from .. import capabilities, catalog_sql
from ..connect import lost
from ..errors import UnsupportedServer
from .model import InForce
from .workload import Workload
from .workload import read as read_workload

STATEMENT_LIMIT = 500


@dataclass(frozen=True)
class Counters:
    """Cluster-wide counters (pg_stat_database summed, checkpoints, WAL)."""

    temp_files: int = 0
    temp_bytes: int = 0
    blks_read: int = 0
    blks_hit: int = 0
    transactions: int = 0
    sessions: int = 0
    session_ms: float = 0.0
    checkpoints_timed: int = 0
    checkpoints_requested: int = 0
    checkpoint_buffers: int = 0
    wal_bytes: int = 0
    wal_records: int = 0
    wal_fpi: int = 0
    wal_buffers_full: int = 0

    def minus(self, before: Counters) -> Counters:
        return Counters(**{k: getattr(self, k) - getattr(before, k) for k in self.__dataclass_fields__})

    @property
    def hit_ratio(self) -> float | None:
        total = self.blks_hit + self.blks_read
        return self.blks_hit / total if total else None


@dataclass(frozen=True)
class TableStats:
    schema: str
    table: str
    live: int
    dead: int
    inserts: int
    updates: int
    hot_updates: int
    newpage_updates: int | None     # PostgreSQL 16+
    deletes: int
    vacuums: int
    autovacuums: int
    reltuples: float
    bytes: int
    reloptions: dict[str, str] = field(default_factory=dict)
    seq_scans: int = 0
    heap_blks_read: int = 0         # heap blocks read from outside shared_buffers
    inserted_since_vacuum: int = 0  # gauge: n_ins_since_vacuum

    def minus(self, before: TableStats) -> TableStats:
        diff = {k: getattr(self, k) - getattr(before, k)
                for k in ("inserts", "updates", "hot_updates", "deletes", "vacuums", "autovacuums", "seq_scans",
                          "heap_blks_read")}
        newpage = (self.newpage_updates - before.newpage_updates
                   if self.newpage_updates is not None and before.newpage_updates is not None else None)
        return replace(self, newpage_updates=newpage, **diff)


@dataclass(frozen=True)
class StatementStats:
    queryid: int | None
    query: str
    role: str
    calls: int
    total_ms: float
    temp_blks_written: int
    jit_functions: int | None
    jit_ms: float | None

    def minus(self, before: StatementStats) -> StatementStats:
        jit_f = (self.jit_functions - before.jit_functions
                 if self.jit_functions is not None and before.jit_functions is not None else self.jit_functions)
        jit_ms = self.jit_ms - before.jit_ms if self.jit_ms is not None and before.jit_ms is not None else self.jit_ms
        return replace(self, calls=self.calls - before.calls, total_ms=self.total_ms - before.total_ms,
                       temp_blks_written=self.temp_blks_written - before.temp_blks_written,
                       jit_functions=jit_f, jit_ms=jit_ms)


@dataclass(frozen=True)
class Sessions:
    """Client sessions now, per role and state."""

    role: str
    state: str
    count: int
    longest_s: float
    youngest_s: float


@dataclass(frozen=True)
class Snapshot:
    server_version_num: int
    database: str
    taken_at: datetime
    since: datetime                        # when the counters started counting (or the window's start)
    settings: dict[str, InForce]
    role_settings: dict[tuple[str | None, str | None], dict[str, str]]   # (role, database) -> name -> value
    counters: Counters
    database_bytes: int
    tables: dict[tuple[str, str], TableStats]
    statements: list[StatementStats]
    sessions: list[Sessions]
    statements_readable: bool = True       # pg_stat_statements installed in this database and readable
    indexed: dict[tuple[str, str], tuple[frozenset[str], bool]] = field(default_factory=dict)  # columns, expressions
    statements_dealloc: int | None = None  # pg_stat_statements_info.dealloc: entries evicted (max reached)
    available: frozenset[str] = frozenset()  # extensions pgtune uses that the server could load
    window: bool = False                   # counters are the difference of two readings
    workload: Workload = field(default_factory=Workload)   # every statement: role, calls, kind, text length
    peak_sessions: int = 0                 # the most client sessions seen open (sampled during a --window)
    pooler_sessions: dict[str, int] = field(default_factory=dict)  # application_name of a pooler -> sessions
    statements_entries: int | None = None  # statements pg_stat_statements holds (every database)
    qualstats_entries: int | None = None   # entries in pg_qualstats' shared table (every database)
    qualstats_statements: int | None = None    # the statements they belong to
    qualstats_unique_filled: bool = False  # unique-key lookups hold most of its entries (a larger one fills too)
    qualstats_tracked: int | None = None   # statements pg_stat_statements holds that may have predicates (not
                                           # pgtune's own, nor utility ones): what pg_qualstats.max is sized for
    reads_all_stats: bool = True           # superuser or pg_read_all_stats: every role's statements are visible
    preloaded: frozenset[str] = frozenset()    # libraries known loaded without reading shared_preload_libraries
                                               # (capabilities.probe: the view answers, the library's own GUC)
    preload_pending: str | None = None     # shared_preload_libraries set but not in force (capabilities.probe)
    statements_reset: datetime | None = None   # pg_stat_statements_info.stats_reset: since when it counts
    started_at: datetime | None = None     # the server's start
    updated_by_functions: frozenset[tuple[str, str]] = frozenset()  # tables a function's source UPDATEs (triggers)

    @property
    def seconds(self) -> float:
        return max((self.taken_at - self.since).total_seconds(), 1e-3)

    @property
    def major(self) -> int:
        return self.server_version_num // 10000

    def setting(self, name: str) -> InForce:
        return self.settings[name]

    def visible(self, name: str) -> bool:
        """Can this role read the setting? (superuser-only ones, e.g. shared_preload_libraries, are hidden.)"""
        return name in self.settings

    def role_value(self, role: str, database: str | None, name: str) -> str | None:
        return self.role_settings.get((role, database), {}).get(name)


def rows(conn: psycopg.Connection[Any], name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(catalog_sql.load(name), params or {})
        return cur.fetchall()


def options(raw: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in raw:
        key, _, value = item.partition("=")
        out[key] = value
    return out


def statements_schema(conn: psycopg.Connection[Any]) -> str | None:
    """The schema pg_stat_statements is installed in here (``extensions`` on Supabase), or None."""
    return catalog_sql.extension_schema(conn, "pg_stat_statements")


def _composed(name: str, schema: str) -> sql.Composed:
    return sql.SQL(catalog_sql.load(name)).format(statements=sql.Identifier(schema, "pg_stat_statements"),
                                                  info=sql.Identifier(schema, "pg_stat_statements_info"))


def _statements(conn: psycopg.Connection[Any], version: int, schema: str | None
                ) -> tuple[list[StatementStats], Workload, bool]:
    if schema is None:
        return [], Workload(), False
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            cur.execute(_composed("config_statements" if version >= 150000 else "config_statements_14", schema),
                        {"limit": STATEMENT_LIMIT})
            found = cur.fetchall()
        workload = read_workload(conn, sql.Identifier(schema, "pg_stat_statements"))
    except psycopg.Error:
        if lost(conn):
            raise
        return [], Workload(), False        # not preloaded: the view errors
    return [StatementStats(r["queryid"], r["query"], r["role"] or "", r["calls"], r["total_ms"],
                           r["temp_blks_written"], r["jit_functions"], r["jit_ms"]) for r in found], workload, True


def _statements_info(conn: psycopg.Connection[Any], schema: str
                     ) -> tuple[int | None, int | None, datetime | None]:
    """(evictions since pg_stat_statements' reset, statements it holds now, that reset), None where unreadable."""
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            cur.execute(_composed("config_statements_info", schema))
            info = cur.fetchone()
    except psycopg.Error:
        if lost(conn):
            raise
        return None, None, None
    return (int(info["dealloc"]), int(info["entries"]), info["stats_reset"]) if info else (None, None, None)


def sessions_now(conn: psycopg.Connection[Any]) -> int:
    """Client sessions open now (pgtune's own left out)."""
    return int(rows(conn, "config_session_count")[0]["sessions"])


def capture(conn: psycopg.Connection[Any]) -> Snapshot:
    """One reading of everything `pgtune config` judges by."""
    version = conn.info.server_version
    if version < 140000:
        raise UnsupportedServer("pgtune config needs PostgreSQL 14 or later (pg_stat_wal, session counters)")
    settings = {r["name"]: InForce(**r) for r in rows(conn, "config_settings")}
    roles: dict[tuple[str | None, str | None], dict[str, str]] = {}
    for r in rows(conn, "config_role_settings"):
        roles[(r["role"], r["database"])] = options(r["settings"] or [])
    db = rows(conn, "config_databases")[0]
    cp = rows(conn, "config_checkpoints_17" if version >= 170000 else "config_checkpoints")[0]
    wal = rows(conn, "config_wal")[0]
    resets = [t for t in (db["stats_reset"], cp["stats_reset"], wal["stats_reset"]) if t is not None]
    # The shortest span every counter covers: from their last reset. A clean restart keeps them (PostgreSQL writes
    # them out at shutdown), a crash zeroes them and stamps the fixed-size ones' reset; the server's start only when
    # no reset is known (p28: after the restart that put shared_buffers in force, the period said 8 s while
    # blks_read still held 32 minutes of reads, and verify judged the new cache on the old misses).
    since = max(resets) if resets else db["started_at"]
    counters = Counters(temp_files=db["temp_files"], temp_bytes=db["temp_bytes"], blks_read=db["blks_read"],
                        blks_hit=db["blks_hit"], transactions=db["transactions"], sessions=db["sessions"],
                        session_ms=db["session_ms"], checkpoints_timed=cp["timed"],
                        checkpoints_requested=cp["requested"], checkpoint_buffers=cp["buffers_written"],
                        wal_bytes=wal["bytes"], wal_records=wal["records"], wal_fpi=wal["full_page_images"],
                        wal_buffers_full=wal["buffers_full"])
    tables = {(r["schema"], r["table"]): TableStats(
        r["schema"], r["table"], r["live"], r["dead"], r["inserts"], r["updates"], r["hot_updates"],
        r["newpage_updates"], r["deletes"], r["vacuums"], r["autovacuums"], r["reltuples"], r["bytes"],
        options(r["reloptions"]), r["seq_scans"], r["heap_blks_read"], r["inserted_since_vacuum"])
        for r in rows(conn, "config_tables_16" if version >= 160000 else "config_tables")}
    schema = statements_schema(conn)
    statements, workload, readable = _statements(conn, version, schema)
    dealloc, entries, reset = _statements_info(conn, schema) if readable and schema else (None, None, None)
    sessions = [Sessions(r["role"], r["state"], r["sessions"], r["longest_s"], r["youngest_s"])
                for r in rows(conn, "config_connections")]
    indexed = {(r["schema"], r["table"]): (frozenset(r["columns"]), bool(r["expressions"]))
               for r in rows(conn, "config_indexed_columns")}
    dbname = conn.execute("SELECT /* pgtune */ pg_catalog.current_database()").fetchone()
    caps = capabilities.probe(conn)
    return Snapshot(version, dbname[0] if dbname else "", db["taken_at"], since, settings, roles, counters,
                    db["database_bytes"], tables, statements, sessions, readable, indexed, dealloc,
                    frozenset(r["name"] for r in rows(conn, "config_available_extensions")),
                    workload=workload, peak_sessions=sum(x.count for x in sessions),
                    pooler_sessions={r["application_name"]: r["sessions"]
                                     for r in rows(conn, "config_pooler_sessions")},
                    statements_entries=entries, qualstats_entries=caps.qualstats_entries,
                    qualstats_statements=caps.qualstats_statements, qualstats_tracked=caps.pgss_tracked,
                    qualstats_unique_filled=caps.qualstats_unique_filled, reads_all_stats=caps.reads_all_stats,
                    preloaded=frozenset(name for name, loaded in (("pg_stat_statements", caps.pgss_preloaded),
                                                                  ("pg_qualstats", caps.qualstats_preloaded))
                                        if loaded),
                    preload_pending=caps.preload_pending, statements_reset=reset, started_at=db["started_at"],
                    updated_by_functions=frozenset((r["schema"], r["table"])
                                                   for r in rows(conn, "config_update_sources")))


def window(before: Snapshot, after: Snapshot) -> Snapshot:
    """What happened between two readings: counters as differences, gauges and settings as in ``after``."""
    tables = {k: t.minus(before.tables[k]) if k in before.tables else t for k, t in after.tables.items()}
    old = {(s.queryid, s.role): s for s in before.statements}
    statements = []
    for s in after.statements:
        prev = old.get((s.queryid, s.role))
        d = s.minus(prev) if prev is not None else s
        if d.calls > 0:
            statements.append(d)
    dealloc = (after.statements_dealloc - before.statements_dealloc
               if after.statements_dealloc is not None and before.statements_dealloc is not None
               and after.statements_dealloc >= before.statements_dealloc else after.statements_dealloc)
    return replace(after, since=before.taken_at, counters=after.counters.minus(before.counters), tables=tables,
                   statements=statements, window=True, workload=after.workload.minus(before.workload),
                   statements_dealloc=dealloc, peak_sessions=max(before.peak_sessions, after.peak_sessions))


def read(conn: psycopg.Connection[Any], window_s: float | None = None) -> Snapshot:
    """Since the counters' reset, or over ``window_s`` seconds (two readings, the sessions counted every second
    between them for the peak in use)."""
    first = capture(conn)
    if not window_s:
        return first
    end = time.monotonic() + window_s
    peak = 0
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(1.0, left))
        peak = max(peak, sessions_now(conn))
    snap = window(first, capture(conn))
    return replace(snap, peak_sessions=max(snap.peak_sessions, peak))
