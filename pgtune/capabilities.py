"""What the connected server and role can do for pgtune, and the fix for what is missing."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from . import catalog_sql
from .errors import MissingCapability, UnsupportedServer

PGSS_PRELOAD_FIX = (
    "pg_stat_statements is not loaded: add it to shared_preload_libraries "
    "(ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'), restart the server, "
    "then CREATE EXTENSION pg_stat_statements"
)


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
            out.append(PGSS_PRELOAD_FIX)
        elif not self.pgss_installed:
            out.append(f"pg_stat_statements is preloaded but not installed in database {self.database!r}: "
                       "run CREATE EXTENSION pg_stat_statements;")
        if not self.reads_all_stats:
            out.append(f"role {self.role!r} sees only its own statements' text: "
                       f"GRANT pg_read_all_stats TO {self.role};")
        return out

    def hints(self) -> list[str]:
        """Optional improvements: pgtune works without them, less precisely."""
        return self.what_if_hints() + self.qualstats_hints()

    def what_if_hints(self) -> list[str]:
        """Why advice is heuristic: HypoPG is missing, and how to add it."""
        if self.hypopg_installed:
            return []
        if self.hypopg_available:
            return ["hypopg is available but not installed: run CREATE EXTENSION hypopg; "
                    "for what-if costing of candidate indexes"]
        return [f"hypopg is not available: install postgresql-{self.major}-hypopg "
                "for what-if costing of candidate indexes (heuristic mode until then)"]

    def qualstats_hints(self) -> list[str]:
        """What pg_qualstats would add, and the exact steps to enable it."""
        out = []
        gain = ("for the constants the workload really uses (its $n are then costed with them, and a rare "
                "status value gets a partial index)")
        if not self.qualstats_available:
            out.append(f"pg_qualstats is not available: install postgresql-{self.major}-pg-qualstats {gain}")
        elif self.qualstats_preloaded is False:
            out.append("pg_qualstats is not loaded: add it to shared_preload_libraries (ALTER SYSTEM SET "
                       "shared_preload_libraries = 'pg_stat_statements,pg_qualstats'), restart, then "
                       f"CREATE EXTENSION pg_qualstats; {gain}")
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
        return asdict(self)


def probe(conn: psycopg.Connection[Any]) -> Capabilities:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(catalog_sql.load("server_capabilities"))
        row = cur.fetchone()
    assert row is not None
    if row["pgss_preloaded"] is None:
        # The role may not read shared_preload_libraries: ask the view itself.
        row["pgss_preloaded"] = _pgss_answers(conn) if row["pgss_installed"] else True
    return Capabilities(**row)


def _pgss_answers(conn: psycopg.Connection[Any]) -> bool:
    try:
        with conn.transaction():
            conn.execute("SELECT /* pgtune */ 1 FROM pg_stat_statements LIMIT 1")
        return True
    except psycopg.errors.ObjectNotInPrerequisiteState:   # "must be loaded via shared_preload_libraries"
        return False
