"""Named catalog queries from the ``sql/`` folder (shipped as ``pgtune.sql``).

One question per file; the file's name is the query's name. A fragment
(``statement_start``, ``utility_statement``) is a piece several queries share,
written once: a query names it as ``{fragment}`` and ``compose`` puts it in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources
from typing import Any

import psycopg
from psycopg import sql
from psycopg.pq import PipelineStatus, TransactionStatus

FRAGMENTS = ("statement_start", "utility_statement")


@cache
def load(name: str) -> str:
    """Return the text of ``sql/<name>.sql``."""
    return resources.files("pgtune.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")


def compose(name: str, **parts: sql.Composable) -> sql.Composed:
    """``sql/<name>.sql`` with the fragments it names and ``parts`` (identifiers, literals) put in."""
    return _filled(load(name), parts)


@cache
def _fragment(name: str) -> sql.Composed:
    """A fragment's text without its header comment, its own fragments put in."""
    body = "\n".join(line for line in load(name).splitlines() if not line.startswith("--")).strip()
    return _filled(body, {})


def _filled(text: str, parts: dict[str, sql.Composable]) -> sql.Composed:
    named = {f: _fragment(f) for f in FRAGMENTS if "{" + f + "}" in text}
    return sql.SQL(text).format(**named, **parts)


def extension_schema(conn: psycopg.Connection[Any], name: str) -> str | None:
    """The schema extension ``name`` is installed in (``extensions`` on Supabase), or None: its functions and
    views are named with it, as the search_path of pgtune's session (or a role's, SET LOCAL) may leave it out."""
    # Not uncompiled(): a one-row lookup the planner prices far below jit_above_cost, asked by every what-if
    # session and review, where the guard's SHOW, SET and RESET were 4 round trips more each time.
    row = conn.execute(load("extension_schema"), {"name": name}).fetchone()
    return str(row[0]) if row else None


def function(schema: str | None, name: str) -> sql.Composable:
    """An extension's function, named with its schema (``extension_schema``) when it has one."""
    return sql.Identifier(schema, name) if schema else sql.Identifier(name)


@contextmanager
def uncompiled(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """pgtune's statements inside run with JIT off; the session's setting is given back after.

    The planner prices a catalog query on a big catalog far over jit_above_cost, and a server with llvmjit
    compiled sql/columns.sql for 4.3 s of its 5.3 s on 500 tables. SHOW and SET are utility statements, never
    planned, so never compiled themselves. No transaction of its own: a caller's reads that catch an error go
    on as they did in autocommit. In a caller's open transaction (apply holds its locks in its own) the SET is
    LOCAL and the value before comes back for the rest of that transaction, not at its end: a SET LOCAL left
    there would outlive the reads, a plain SET would become the session's once it commits. Outside one, the
    session's value is given back (_give_back), as a pooler's next client of this server session must find it;
    not a transaction of pgtune's there either: a command's reads that catch an error would find it aborted, and
    the locks its reads keep (pg_partition_tree's, on the partitions) would be held to the command's end.
    """
    if not _settable(conn):
        yield
        return
    row = conn.execute("SHOW /* pgtune */ jit").fetchone()
    before = str(row[0]) if row else "off"
    if before == "off":     # off already (an enclosing block's, the server's): nothing to set or give back
        yield
        return
    local = conn.info.transaction_status == TransactionStatus.INTRANS
    scope = sql.SQL("LOCAL " if local else "")
    conn.execute(sql.SQL("SET /* pgtune */ {}jit = off").format(scope))
    try:
        yield
    finally:
        if _settable(conn):
            _give_back(conn, before, local)


def _give_back(conn: psycopg.Connection[Any], before: str, local: bool) -> None:
    """``before`` back in force. Outside a transaction RESET first: the server's, database's or role's value comes
    back as theirs (pg_settings.source; a pool's sessions copy the ones a session SET), and a SET only where this
    session had SET it itself. A caller's transaction that ended inside took the SET LOCAL with it."""
    if local:
        if conn.info.transaction_status == TransactionStatus.INTRANS:
            conn.execute(sql.SQL("SET /* pgtune */ LOCAL jit = {}").format(sql.Literal(before)))
        return
    conn.execute("RESET /* pgtune */ jit")
    row = conn.execute("SHOW /* pgtune */ jit").fetchone()
    if not row or row[0] != before:
        conn.execute(sql.SQL("SET /* pgtune */ jit = {}").format(sql.Literal(before)))


def _settable(conn: psycopg.Connection[Any]) -> bool:
    """Open, out of a pipeline, and idle or in a transaction that has not failed."""
    return not (conn.closed or conn.broken) and conn.pgconn.pipeline_status == PipelineStatus.OFF \
        and conn.info.transaction_status in (TransactionStatus.IDLE, TransactionStatus.INTRANS)
