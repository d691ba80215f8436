"""Supabase's index_advisor, run beside pgtune on the same queries: a per-query, single-column peer.

Its SQL file (``index_advisor--<version>.sql`` from github.com/supabase/index_advisor)
is read at run time from the path or URL given, never kept in this
repository. The file defines one plpgsql function, ``index_advisor(query)``:
it creates a hypothetical (HypoPG) index on every column of every table,
plans the query, and returns the ``CREATE INDEX`` statements of the ones the
plan used. Here it is created in a schema of its own, which is dropped after
the run, so the benchmark database keeps nothing of it.

The union of its statements over the workload is its advice; built for real
it is what a user of it gets, which is what the benchmark compares.
"""

from __future__ import annotations

import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from pglast import ast
from psycopg import sql

from pgtune import ddl
from pgtune.sqltext import parse

SCHEMA = "pgtune_bench_index_advisor"


@dataclass(frozen=True)
class PeerIndex:
    """One index the peer proposed, in the shape the benchmark's build step takes (tpch.build)."""

    schema: str
    table: str
    name: str
    columns: tuple[str, ...]
    where: str | None = None
    include: tuple[str, ...] = ()

    @property
    def descending(self) -> tuple[bool, ...]:
        return tuple(False for _ in self.columns)

    @property
    def expressions(self) -> tuple[str | None, ...]:
        return tuple(None for _ in self.columns)


def read_source(where: str) -> str:
    """The SQL file's text, from a path or an http(s) URL."""
    if where.startswith(("http://", "https://")):
        with urllib.request.urlopen(where, timeout=60) as response:
            return str(response.read().decode("utf-8"))
    return Path(where).read_text()


@dataclass
class Advice:
    indexes: dict[str, PeerIndex]
    seconds: float
    errors: list[str]


def run(dsn: str, source: str, queries: list[tuple[str, str]]) -> Advice:
    """Create the peer's function from ``source`` (its SQL text), ask it about each query, drop it again.

    On a connection of its own: the function runs DEALLOCATE ALL, which would pull the prepared
    statements from under any other client of the session (psycopg prepares repeated statements).
    """
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
        try:
            conn.execute(sql.SQL("SET search_path = {}, public").format(sql.Identifier(SCHEMA)))
            conn.execute(source.encode())      # the peer's own file, run as it ships
            found: dict[str, PeerIndex] = {}
            errors: list[str] = []
            started = time.monotonic()
            for name, text in queries:
                row = conn.execute(sql.SQL("SELECT index_statements, errors FROM {}.index_advisor(%s)")
                                   .format(sql.Identifier(SCHEMA)), (text,)).fetchone()
                statements, failed = (row[0] or [], row[1] or []) if row else ([], [])
                errors += [f"{name}: {e}" for e in failed]
                for statement in statements:
                    ix = _index(statement)
                    found.setdefault(ix.name, ix)
            return Advice(found, time.monotonic() - started, errors)
        finally:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))


def _index(statement: str) -> PeerIndex:
    """``CREATE INDEX ON public.lineitem USING btree (l_shipdate)`` as a PeerIndex with pgtune's kind of name."""
    stmt: Any = parse(statement)[0].stmt
    if not isinstance(stmt, ast.IndexStmt):
        raise ValueError(f"not an index: {statement}")
    columns = tuple(str(p.name) for p in stmt.indexParams)
    schema, table = stmt.relation.schemaname or "public", str(stmt.relation.relname)
    return PeerIndex(schema, table, ddl.index_name(table, tuple(ddl.IndexKey(c) for c in columns), "peer_idx"),
                     columns)
