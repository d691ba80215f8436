"""The statement_timeout a migration tool's build inherits, said at emit (p15, LOW).

Prisma Migrate and golang-migrate send a file as one query, where CREATE INDEX CONCURRENTLY must be the
only statement: the build cannot SET its own statement_timeout, and runs under the one its session starts
with (the server's, ``ALTER DATABASE … SET``, ``ALTER ROLE … SET``; p15's database: 20 s). Cut mid-way, it
leaves an INVALID index (the file says how to recover). Flyway's files and pgtune's own apply set
statement_timeout = 0 for a build themselves. So at emit, when that timeout is not 0 and the largest build
is forecast to take a SHARE of it or more, pgtune says so, with where the timeout is set.

The forecast is rough on purpose: a concurrent build reads its table's heap twice, sorts its keys and waits
for the transactions before it (which no forecast knows); HEAP_BYTES_S of heap a second is what two builds
on a 223 MB table took on this project's 2-core machine at load 10-11 (4.9 and 8.5 s: 46 and 26 MB/s). An
idle or bigger server is faster, a busier one slower: hence the share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from .. import catalog_sql, ddl
from ..duration import to_ms
from ..errors import InputError
from .layouts import Layout
from .model import Migration

HEAP_BYTES_S = 40 * 1048576     # a table's heap a concurrent build gets through a second (module doc)
SHARE = 0.1                     # a build forecast at this share of the timeout or more is said to be at risk
ALONE = (Layout.PRISMA, Layout.GOLANG_MIGRATE)    # the layouts whose builds cannot SET a timeout


@dataclass(frozen=True)
class Inherited:
    """The statement_timeout a new session of this role here starts with, where else one is set, and the
    largest heap a build reads."""

    ms: int
    set_by: str | None
    heap_bytes: int
    owners: tuple[tuple[str, int, str], ...] = ()   # the tables' owners' own non-zero timeouts: (role, ms, as set)

    @property
    def forecast_s(self) -> float:
        return self.heap_bytes / HEAP_BYTES_S


def inherited(conn: psycopg.Connection[Any], tables: list[tuple[str, str]]) -> Inherited:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(catalog_sql.load("inherited_timeouts"),
                          {"schemas": [s for s, _ in tables], "tables": [t for _, t in tables]}).fetchone()
    assert row is not None
    owners = []
    for item in row["owner_timeouts"] or []:
        role, _, value = item.rpartition("=")
        try:
            owners.append((role, to_ms(value), value))
        except InputError:
            continue        # a form the duration parser does not read (1.5s): not guessed
    return Inherited(int(row["ms"] or 0), row["set_by"], int(row["heap_bytes"] or 0), tuple(owners))


def built_on(m: Migration) -> list[tuple[str, str]]:
    """The tables the migration builds an index on concurrently (a partitioned one's: its partitions)."""
    out = []
    for phase in m.phases:
        for ix in phase.indexes:
            out += [(p.schema, p.table) for p in ix.partitions] if ix.partitioned else [(ix.schema, ix.table)]
    return out


def hint(conn: psycopg.Connection[Any], m: Migration, layout: str) -> str | None:
    """One line for stderr when ``layout``'s builds inherit a statement_timeout the largest may not fit in."""
    tables = built_on(m)
    if layout not in ALONE or not tables:
        return None
    got = inherited(conn, tables)
    ms, who, where = got.ms, "a session here starts", f" (set for {got.set_by})" if got.set_by else ""
    owner = max(got.owners, key=lambda o: o[1], default=None)
    if owner is not None and (ms <= 0 or owner[1] < ms):
        # pgtune's role has none (a superuser, say), or a longer one: the owner's is the one migrations run under
        # when the application's role runs them (p19: statement_timeout 5s on the owner, none on postgres).
        ms = owner[1]
        who = f"role {owner[0]}, which owns the tables built on (the role migrations usually run as), starts"
        where = f" (set for role {owner[0]}: {owner[2]})"
    if ms <= 0 or got.forecast_s < SHARE * ms / 1000:
        return None
    return (f"note: {who} with statement_timeout {ms:,} ms{where}, and a {layout} build alone "
            f"in its file runs under it: the largest table built on ({got.heap_bytes / 1048576:,.0f} MB) is "
            f"forecast at ~{max(got.forecast_s, 0.1):.1f} s, more with load or an old transaction to wait for; "
            "give the role that runs migrations statement_timeout 0 (ALTER ROLE <role> SET statement_timeout = 0), "
            "or a build cut mid-way is left INVALID (its file says how to recover)")


def parallel_gin(m: Migration, layout: str, server_version_num: int) -> str | None:
    """One line for stderr when ``layout``'s files build a GIN on PostgreSQL 18, which builds it with parallel
    workers up to 1.6x larger than forecast, where no SET fits beside the build (c29, c30)."""
    gins = [ix.name for p in m.phases for ix in p.indexes if ddl.index_signature(ix.ddl)[1] == "gin"]
    if layout not in ALONE or server_version_num < 180000 or not gins:
        return None
    return (f"note: PostgreSQL {server_version_num // 10000} builds a GIN with parallel workers up to 1.6x larger "
            f"than its forecast, and a {layout} build alone in its file cannot SET max_parallel_maintenance_workers "
            f"= 0 ({', '.join(gins)}): give the role that runs migrations ALTER ROLE <role> SET "
            "max_parallel_maintenance_workers = 0 for the deploy, and RESET it after (the file says so too)")
