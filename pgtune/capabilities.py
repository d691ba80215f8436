"""What the connected server and role can do for pgtune, and the fix for what is missing."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from . import catalog_sql, ddl
from .connect import lost
from .errors import MissingCapability, UnsupportedServer
from .tracking import may_untrack

HIDDEN_TEXT = "<insufficient privilege>"   # pg_stat_statements' text for other roles' statements


@dataclass(frozen=True)
class Capabilities:
    server_version_num: int
    server_version: str
    database: str
    role: str
    pgss_preloaded: bool
    pgss_installed: bool
    pgss_available: bool
    hypopg_available: bool
    hypopg_installed: bool
    qualstats_available: bool
    qualstats_preloaded: bool | None       # None: the role may not read shared_preload_libraries
    qualstats_installed: bool
    qualstats_sample_rate: str | None      # pg_qualstats.sample_rate (-1: 1/max_connections)
    reads_all_stats: bool
    qualstats_max: int | None = None       # pg_qualstats.max: entries its shared table holds
    max_connections: int = 100
    qualstats_entries: int | None = None   # entries in that table now (every database); None: unreadable
    qualstats_statements: int | None = None    # the statements (queryids) they belong to
    qualstats_unique: int | None = None    # ...of which lookups of a one-column unique key by equality (this database)
    pgss_statements: int | None = None     # statements pg_stat_statements tracks (every database), not pgtune's
                                           # own nor utility statements: those that may hold predicates
    stats_hidden: tuple[str, ...] = ()     # analyzed tables under row security whose pg_stats this role cannot read
    stats_forced: tuple[str, ...] = ()     # ...of them, those with FORCE ROW LEVEL SECURITY (their owner is blind too)
    stats_hidden_keys: frozenset[tuple[str, str]] = frozenset()   # stats_hidden as (schema, table)
    pgss_kept_restart: bool = False       # pg_stat_statements counts from before the server's start (its info view)
    preload_libraries: str | None = None   # shared_preload_libraries as set; None: the role may not read it
    preload_pending: str | None = None     # what a restart will load, when an ALTER SYSTEM of it is not in force yet
    in_recovery: bool = False              # a hot standby
    pgss_max: int | None = None            # pg_stat_statements.max (None: not loaded)
    pgss_entries: int | None = None        # its entries now, every database's and role's (None: unreadable)
    pgss_dealloc: int | None = None        # evictions since its reset (pg_stat_statements_info, 14+; None: unknown)
    pgss_untracked: bool = False           # this role may keep its sessions' statements out (tracking.UNTRACKED)
    pgss_hidden: int | None = None         # ...of pgss_entries, other roles' statements whose text this role may not
                                           # read (<insufficient privilege>): never in pgss_statements
    standbys: int = 0                      # physical replication connections streaming from this server

    def preload_fix(self, *libraries: str) -> str:
        """ALTER SYSTEM SET shared_preload_libraries with ``libraries`` added to what the restart will load.

        The setting is one list: a fix naming only pgtune's libraries would unload the server's others
        (timescaledb, pg_cron, auto_explain) at the restart. Unread (the role may not), the fix says to keep them.
        An ALTER SYSTEM not in force yet is what the restart loads: the fix adds to it (m10: it replaced it).
        Each library is a constant of its own: one constant holding commas is one library's name to PostgreSQL.
        """
        held = ddl.setting_list(self.preload_pending or self.preload_libraries or "")
        wanted = held + [lib for lib in libraries if lib not in held]
        fix = ("ALTER SYSTEM SET shared_preload_libraries = "
               + ", ".join(sql.Literal(lib).as_string(None) for lib in wanted))
        return fix if self.preload_libraries is not None else f"{fix}, plus the libraries it lists now"

    @property
    def major(self) -> int:
        return self.server_version_num // 10000

    def problems(self) -> list[str]:
        """One line per missing piece, each naming its exact fix."""
        out: list[str] = []
        if not self.pgss_available:
            out.append("pg_stat_statements is not available on this server: install the contrib package "
                       f"(e.g. postgresql-{self.major}-contrib or postgresql-contrib)")
        elif not self.pgss_preloaded:
            out.append(f"pg_stat_statements is not loaded: add it to shared_preload_libraries "
                       f"({self.preload_fix('pg_stat_statements')}), restart the server, "
                       "then CREATE EXTENSION pg_stat_statements")
        elif not self.pgss_installed:
            out.append(f"pg_stat_statements is preloaded but not installed in database {self.database!r}: "
                       "run CREATE EXTENSION pg_stat_statements;")
        if not self.reads_all_stats:
            hidden = (f" ({self.pgss_hidden:,} of pg_stat_statements' {self.pgss_entries:,} statements are "
                      "<insufficient privilege> to it: counted apart)"
                      if self.pgss_hidden and self.pgss_entries is not None else "")
            out.append(f"role {self.role!r} sees only its own statements' text{hidden}: "
                       f"GRANT pg_read_all_stats TO {self.role};")
        return out

    def hints(self) -> list[str]:
        """Optional improvements: pgtune works without them, less precisely."""
        return (self.what_if_hints() + self.qualstats_hints() + self.stats_hints() + self.replica_hints()
                + self.eviction_hints())

    def eviction_hints(self) -> list[str]:
        """pg_stat_statements full, and this role may not keep pgtune's statements out of it (p19): each run of
        pgtune then takes entries of its own, and each evicts one of the application's (a refused suggest as a
        DBA role cost the application 20 entries, a suggest as the application's owner 41 of a reporting role's 45).
        """
        if self.pgss_untracked or not self.pgss_max or self.pgss_entries is None:
            return []
        full = self.pgss_entries >= 0.9 * self.pgss_max
        if not full and not self.pgss_dealloc:
            return []
        evicted = f", {self.pgss_dealloc:,} evictions since its reset" if self.pgss_dealloc else ""
        grant = (f"GRANT SET ON PARAMETER pg_stat_statements.track TO {sql.Identifier(self.role).as_string(None)}; "
                 "(pgtune then turns tracking off for its own sessions), run pgtune as a superuser,"
                 if self.server_version_num >= 150000 else "run pgtune as a superuser (it then turns tracking off "
                 "for its own sessions),")
        return [f"pg_stat_statements is full ({self.pgss_entries:,} entries of pg_stat_statements.max "
                f"{self.pgss_max:,}{evicted}) and role {self.role!r} may not keep pgtune's own statements out of it: "
                f"each pgtune run takes entries and evicts as many of the application's least-used statements; "
                f"{grant} or raise pg_stat_statements.max (a restart)"]

    def replica_hints(self, given: int = 0) -> list[str]:
        """Where the workload is not all here (p16): a read replica's statements are in its own
        pg_stat_statements, and a standby's advice is built on the primary. ``given``: replicas read already."""
        out = []
        if self.in_recovery:
            out.append("this server is a hot standby: the advice is for the statements it runs; build it on the "
                       "primary (apply there), and add the primary's workload with --workload-dsn PRIMARY")
        if self.standbys > given:
            out.append(f"{self.standbys} standby connection(s) stream from this server: if the application reads "
                       "from a replica, its statements are in the replica's pg_stat_statements, not here: add "
                       "--workload-dsn REPLICA for each (suggest, health)")
        return out

    def stats_hints(self) -> list[str]:
        """Why the advice on tables under row security is blind: pg_stats hides their statistics from this role.

        PostgreSQL's pg_stats shows a table's statistics only to a reader row
        security does not apply to, so for a role that is neither the owner, nor
        BYPASSRLS, nor a superuser (the GRANTs docs/roles.md asks for do not
        change it) every such table looks never analyzed: its sizes come from the
        types alone, its $n have no value to plan with, its policies' settings no
        value to plan them under (u13: a 1.3 MB index forecast at 7.7 MB, the
        statement planned without its policy). The owner is no way out for a
        table with FORCE ROW LEVEL SECURITY: it binds the owner too (r11 F6).
        BYPASSRLS is named with what it costs: the role then reads every row.
        """
        if not self.stats_hidden:
            return []
        owner = "run pgtune as the tables' owner, or "
        if self.stats_forced:
            forced = _names(self.stats_forced)
            have = "has" if len(self.stats_forced) == 1 else "have"
            owner = (f"{forced} {have} FORCE ROW LEVEL SECURITY, which binds the owner too: "
                     + ("run pgtune as a superuser, or " if set(self.stats_forced) >= set(self.stats_hidden) else
                        "run pgtune as the others' owner, as a superuser, or "))
        return [f"pg_stats hides the planner statistics of {len(self.stats_hidden)} table(s) under row security "
                f"from role {self.role!r} ({_names(self.stats_hidden)}): pgtune sizes and plans them as if never "
                f"analyzed, and their statements under the application's policies with no tenant value from statistics "
                f"(a stand-in, named in the statement's note); {owner}"
                f"ALTER ROLE {ddl.name(self.role)} BYPASSRLS; (a superuser's statement; BYPASSRLS also lets this role "
                "read every row of every table it may SELECT, whatever the policies)"]

    def what_if_hints(self) -> list[str]:
        """Why advice is heuristic: HypoPG is missing, and how to add it."""
        if self.hypopg_installed:
            return []
        if self.hypopg_available:
            return ["hypopg is available but not installed: run CREATE EXTENSION hypopg; "
                    "for what-if costing of candidate indexes"]
        return [f"hypopg is not available: install postgresql-{self.major}-hypopg "
                "for what-if costing of candidate indexes (heuristic mode until then)"]

    @property
    def qualstats_rate(self) -> float | None:
        """The share of executions pg_qualstats samples (sample_rate -1 is 1/max_connections)."""
        try:
            rate = float(self.qualstats_sample_rate) if self.qualstats_sample_rate is not None else None
        except ValueError:
            return None
        if rate is None:
            return None
        return 1.0 / max(self.max_connections, 1) if rate < 0 else min(rate, 1.0)

    @property
    def qualstats_full(self) -> bool:
        """Is pg_qualstats' table full? Once it is, every new entry evicts the 5% least used ones."""
        if self.qualstats_entries is None or not self.qualstats_max:
            return False
        return self.qualstats_entries >= self.qualstats_max - max(10, self.qualstats_max * 5 // 100)

    @property
    def qualstats_held(self) -> int | None:
        """The entries pg_qualstats' table holds, as sizing reads them: once full, pg_qualstats.max itself.

        A full table frees its 5% least used entries (at least 10) for each new
        one, so the count taken moves between about 90% and 100% of the maximum
        with each eviction: the same workload read twice gave 90 and 95, and a
        different size and text each run (the tryouts' F7). The maximum is what
        the workload fills, whatever moment it is read at.
        """
        if self.qualstats_full:
            return self.qualstats_max
        return self.qualstats_entries

    def qualstats_size(self) -> int | None:
        """A pg_qualstats.max that holds the workload: its entries per statement for every statement
        pg_stat_statements tracks, at least twice the present size, rounded up to a thousand."""
        return qualstats_size(self.qualstats_max, self.qualstats_held, self.qualstats_statements,
                              self.pgss_tracked)

    @property
    def pgss_tracked(self) -> int | None:
        """pgss_statements with the other roles' statements hidden from this one (they may hold predicates too)."""
        return None if self.pgss_statements is None else self.pgss_statements + (self.pgss_hidden or 0)

    @property
    def qualstats_unique_filled(self) -> bool:
        """Do lookups of a unique key by equality (``id = 42``) hold most of the full table's entries?

        Each key looked up takes an entry of its own, so a larger table fills
        the same way: the hint to size it is futile then (q9), and pgtune
        needs no constant for such a lookup (one row, whatever the value).
        """
        held = self.qualstats_entries
        return bool(held and self.qualstats_unique is not None and self.qualstats_unique * 2 >= held)

    def qualstats_usage_hints(self) -> list[str]:
        """A full pg_qualstats table, and sampling that misses rare constants: the fix for each."""
        out = []
        if self.qualstats_full and self.qualstats_max and not self.qualstats_unique_filled:
            n, held = self.qualstats_statements, self.qualstats_max
            hidden = f" (and {self.pgss_hidden:,} hidden from this role)" if self.pgss_hidden else ""
            per = (f"; its {n:,} statement{' fills' if n == 1 else 's fill'} it ({held / n:,.1f} entries each) and "
                   f"pg_stat_statements tracks {self.pgss_statements:,} that may have predicates{hidden}"
                   if n and self.pgss_tracked else "")
            out.append(f"pg_qualstats is full (pg_qualstats.max, {held:,} entries): each new predicate "
                       "or constant evicts the least used ones, so statements lose the constants pgtune would cost "
                       f"them with{per}: ALTER SYSTEM SET pg_qualstats.max = {self.qualstats_size()}; then restart "
                       "the server (each entry is shared memory), and reset it at the start of the window pgtune "
                       "reads (SELECT pg_qualstats_reset();)")
        if self.qualstats_installed and self.qualstats_entries == 0 and self.pgss_statements and self.pgss_kept_restart:
            # p28: after a restart suggest went from a 48 kB BRIN to two b-trees (206 MB) for "the last hour",
            # costed over pg_stats' last histogram bucket (28 hours), and said nothing of why.
            out.append(f"pg_qualstats holds no constants while pg_stat_statements tracks {self.pgss_statements:,} "
                       "statements from before the server's restart: pg_qualstats keeps its constants in shared "
                       "memory only, so the restart emptied it where pg_stat_statements kept its statements; until the "
                       "application has run again, each $n is costed with a value from pg_stats, not the ones the "
                       "application sends (a range over the statistics' last bucket, not its last hour): run pgtune "
                       "after a while of normal load")
        rate = self.qualstats_rate
        if self.qualstats_installed and rate is not None and rate < 1:
            out.append(f"pg_qualstats samples one execution in {1 / rate:,.0f} (pg_qualstats.sample_rate = "
                       f"{self.qualstats_sample_rate}): a constant a statement uses in fewer than about that many of "
                       "its calls is likely never recorded, so a rare value (the one a partial index is for) goes "
                       "unseen and the statement is costed with common values; for the window pgtune reads: "
                       "ALTER SYSTEM SET pg_qualstats.sample_rate = 1; SELECT pg_reload_conf(); "
                       "(every execution is then sampled, at some cost per statement)")
        return out

    def qualstats_hints(self) -> list[str]:
        """What pg_qualstats would add, and the exact steps to enable it."""
        out = self.qualstats_usage_hints()
        gain = ("for the constants the workload really uses (its $n are then costed with them, and a rare "
                "status value gets a partial index)")
        if not self.qualstats_available:
            out.append(f"pg_qualstats is not available: install postgresql-{self.major}-pg-qualstats {gain}")
        elif self.qualstats_preloaded is False:
            out.append(f"pg_qualstats is not loaded: add it to shared_preload_libraries "
                       f"({self.preload_fix('pg_stat_statements', 'pg_qualstats')}), restart, then "
                       f"CREATE EXTENSION pg_qualstats; {gain}")
        elif self.qualstats_preloaded is None and not self.qualstats_installed:
            out.append("whether pg_qualstats is in shared_preload_libraries cannot be read by this role (superuser "
                       "or pg_read_all_settings only); if it is, run CREATE EXTENSION pg_qualstats; " + gain)
        elif not self.qualstats_installed:
            out.append(f"pg_qualstats is preloaded but not installed: run CREATE EXTENSION pg_qualstats; {gain}")
        return out

    def require_workload(self) -> None:
        """Raise MissingCapability unless pg_stat_statements can be read here."""
        if self.server_version_num < 130000:
            raise UnsupportedServer(
                f"PostgreSQL {self.server_version} is too old: pgtune reads pg_stat_statements "
                "with PostgreSQL 13+ column names (total_exec_time); upgrade the server")
        if not (self.pgss_available and self.pgss_preloaded and self.pgss_installed):
            raise MissingCapability(self.problems()[0])

    def as_dict(self) -> dict[str, Any]:
        # stats_hidden_keys is stats_hidden as suggest matches it to proposals: the JSON keeps the names only.
        out = {**asdict(self), "qualstats_full": self.qualstats_full}
        del out["stats_hidden_keys"]
        del out["pgss_kept_restart"]
        return out


def qualstats_size(limit: int | None, held: int | None, statements: int | None, tracked: int | None) -> int | None:
    """pg_qualstats.max for the workload: ``held`` entries over ``statements`` per statement, for each of the
    ``tracked`` statements pg_stat_statements holds, at least twice ``limit``, rounded up to a thousand
    (check's hint and config's rule give the same figure)."""
    if not limit:
        return None
    want = 2 * limit
    if held and statements and tracked:
        want = max(want, math.ceil(held / statements * tracked))
    return math.ceil(want / 1000) * 1000


def probe(conn: psycopg.Connection[Any]) -> Capabilities:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(catalog_sql.load("server_capabilities"))
        row = cur.fetchone()
    assert row is not None
    if row["pgss_preloaded"] is None:
        # The role may not read shared_preload_libraries: ask the view itself.
        row["pgss_preloaded"] = _pgss_answers(conn) if row["pgss_installed"] else True
    hidden = conn.execute(catalog_sql.load("stats_hidden_by_row_security")).fetchall()
    caps = Capabilities(**row, stats_hidden=tuple(str(r[0]) for r in hidden),
                        stats_forced=tuple(str(r[0]) for r in hidden if r[1]),
                        stats_hidden_keys=frozenset((str(r[2]), str(r[3])) for r in hidden),
                        preload_pending=_preload_pending(conn, row["preload_libraries"]))
    caps = _pgss_fill(conn, caps) if caps.pgss_installed else caps
    return _qualstats_fill(conn, caps) if caps.qualstats_installed and caps.pgss_installed else caps


def _pgss_fill(conn: psycopg.Connection[Any], caps: Capabilities) -> Capabilities:
    """How full pg_stat_statements is, its evictions, and whether this role's sessions may stay out of it."""
    schema = catalog_sql.extension_schema(conn, "pg_stat_statements")
    if schema is None:
        return caps
    untracked = may_untrack(conn)
    # Kept across a restart: reset 100 ms or more before the server's start. A server never restarted since
    # pg_stat_statements was loaded has it stamped as its shared memory was made, just before its start time (r24:
    # 12-22 ms, taken for a restart); the fastest restart after a reset measured 220 ms (a tiny test cluster).
    info = (sql.SQL("(SELECT i.dealloc FROM {0} AS i), (SELECT i.stats_reset < pg_catalog.pg_postmaster_start_time() "
                    "- interval '100 ms' FROM {0} AS i)").format(sql.Identifier(schema, "pg_stat_statements_info"))
            if caps.server_version_num >= 140000 else sql.SQL("NULL::int8, false"))
    # Other roles' statements, to a role without pg_read_all_stats: their text is HIDDEN_TEXT (counted apart, c21).
    query = sql.SQL("SELECT /* pgtune */ current_setting('pg_stat_statements.max', true)::int, s.n, {}, s.hidden "
                    "FROM (SELECT count(*) AS n, count(*) FILTER (WHERE p.query = {}) AS hidden FROM {} AS p) AS s"
                    ).format(info, sql.Literal(HIDDEN_TEXT), sql.Identifier(schema, "pg_stat_statements"))
    try:
        with conn.transaction():
            row = conn.execute(query).fetchone()
    except psycopg.Error:
        if lost(conn):
            raise
        return replace(caps, pgss_untracked=untracked)
    if row is None:
        return replace(caps, pgss_untracked=untracked)
    return replace(caps, pgss_max=row[0], pgss_entries=int(row[1]), pgss_dealloc=row[2], pgss_untracked=untracked,
                   pgss_hidden=int(row[4]), pgss_kept_restart=bool(row[3]))


def streaming_standbys(conn: psycopg.Connection[Any]) -> int:
    """Standbys streaming from this server now (physical replication connections)."""
    row = conn.execute(catalog_sql.load("streaming_standbys")).fetchone()
    return int(row[0]) if row else 0


def _names(tables: tuple[str, ...]) -> str:
    """The first five of ``tables``, and how many more."""
    return ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")


def _qualstats_fill(conn: psycopg.Connection[Any], caps: Capabilities) -> Capabilities:
    """How full pg_qualstats' table is (unchanged when the role may not read it)."""
    schemas = {}
    for ext in ("pg_qualstats", "pg_stat_statements"):
        found = catalog_sql.extension_schema(conn, ext)
        if found is None:
            return caps
        schemas[ext] = found
    query = catalog_sql.compose(
        "qualstats_fill", qualstats=sql.Identifier(schemas["pg_qualstats"], "pg_qualstats"),
        statements=sql.Identifier(schemas["pg_stat_statements"], "pg_stat_statements"))
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query)
            row = cur.fetchone()
    except psycopg.Error:
        if lost(conn):
            raise
        return caps         # no privilege on the functions: the fill stays unknown
    if row is None:
        return caps
    return replace(caps, qualstats_entries=row["entries"], qualstats_statements=row["statements"],
                   pgss_statements=row["pgss_statements"], qualstats_unique=row["unique_lookups"])


def _preload_pending(conn: psycopg.Connection[Any], in_force: str | None) -> str | None:
    """shared_preload_libraries as the configuration files set it, where that is not the list in force (an ALTER
    SYSTEM waiting for the restart); None when it is, or when the role may not read the files."""
    if in_force is None:
        return None
    # Asked first: a refused read is an ERROR in the server's log at every check and suggest (p21: twice a run
    # as a pg_monitor role on a managed-style server).
    may = conn.execute("SELECT /* pgtune */ pg_catalog.has_table_privilege('pg_catalog.pg_file_settings', 'SELECT') "
                       "AND pg_catalog.has_function_privilege('pg_catalog.pg_show_all_file_settings()', 'EXECUTE')"
                       ).fetchone()
    if not may or not may[0]:
        return None
    try:
        with conn.transaction():
            row = conn.execute(catalog_sql.load("preload_pending")).fetchone()
    except psycopg.errors.InsufficientPrivilege:
        return None
    if row is None or ddl.setting_list(row[0]) == ddl.setting_list(in_force):
        return None
    return str(row[0])


def _pgss_answers(conn: psycopg.Connection[Any]) -> bool:
    try:
        with conn.transaction():
            conn.execute("SELECT /* pgtune */ 1 FROM pg_stat_statements LIMIT 1")
        return True
    except psycopg.errors.ObjectNotInPrerequisiteState:   # "must be loaded via shared_preload_libraries"
        return False
