"""The workload: pg_stat_statements' rows, or a file of statements, as plain data."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import psycopg
from psycopg.rows import dict_row

from .. import catalog_sql
from ..errors import InputError


@dataclass(frozen=True, slots=True)
class Statement:
    """One normalized statement as pg_stat_statements aggregates it."""

    query: str
    queryid: int | None = None
    calls: int = 1
    total_ms: float = 0.0
    mean_ms: float = 0.0
    rows: int = 0
    userid: int | None = None      # the role that ran it (pg_stat_statements.userid); None: unknown
    # Run inside a function or trigger (pg_stat_statements.toplevel false, 14+, with track = all): its text can
    # name the function's variables (p_website, NEW.session_id), which no session outside it can plan.
    nested: bool = False
    # A --queries file's text whose shape was seen with other texts (its constants vary): a constant in it is one
    # call's value, not one the application always sends (no partial index on it: p11).
    values_vary: bool = False


@dataclass(frozen=True)
class WorkloadFilter:
    """Which pg_stat_statements rows count as the workload."""

    top: int = 50
    min_calls: int = 1
    min_mean_ms: float = 0.0
    min_total_ms: float = 0.0
    database: str | None = None     # None: the connected database
    # Whose statements are the workload: these roles' only; () the application's: every role's but a superuser's
    # beside another role's (a person in psql, not the application).
    roles: tuple[str, ...] = ()


def read_workload(conn: psycopg.Connection[Any], filt: WorkloadFilter | None = None) -> list[Statement]:
    f = filt or WorkloadFilter()
    if f.database is not None:
        found = conn.execute("SELECT /* pgtune */ count(*) FROM pg_catalog.pg_database WHERE datname = %s",
                             (f.database,)).fetchone()
        if found != (1,):
            raise InputError(f"--database {f.database!r}: no such database on this server")
    if f.roles:
        unknown = [r[0] for r in conn.execute(catalog_sql.load("workload_unknown_roles"), {"roles": list(f.roles)})]
        if unknown:
            raise InputError(f"--workload-role {', '.join(map(repr, unknown))}: no such role on this server "
                             "(names are case-sensitive)")
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(catalog_sql.compose("workload_statements"),
                    {"limit": f.top, "min_calls": f.min_calls, "min_mean_ms": f.min_mean_ms,
                     "min_total_ms": f.min_total_ms, "database": f.database, "roles": list(f.roles) or None})
        return [
            Statement(query=r["query"], queryid=r["queryid"], calls=r["calls"],
                      total_ms=r["total_ms"], mean_ms=r["mean_ms"], rows=r["rows"], userid=int(r["userid"]),
                      nested=not r["toplevel"])
            for r in cur.fetchall()
        ]


def read_adhoc(conn: psycopg.Connection[Any], filt: WorkloadFilter) -> list[str]:
    """One line per superuser whose statements read_workload left out by default, or none."""
    if filt.roles:
        return []
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(catalog_sql.compose("workload_adhoc"), {"database": filt.database}).fetchall()
    return [f"left out {r['statements']:,} statement(s) ({r['calls']:,} calls) run by superuser {r['role']} beside "
            f"the application's own roles (a person's, not the workload's); to count them: --workload-role "
            f"{r['role']} (and the application's roles)" for r in rows]


def read_temporary_names(conn: psycopg.Connection[Any], database: str | None = None,
                         texts: list[str] | None = None) -> set[str]:
    """Temporary tables: those that exist now, and those the workload creates.

    The workload is ``texts`` (a --queries file) or, when None, pg_stat_statements.
    """
    names = {r[0] for r in conn.execute(catalog_sql.load("temporary_tables"))}
    if texts is None:
        texts = [r[0] for r in conn.execute(catalog_sql.load("workload_temporary_tables"), {"database": database})
                 if r[0] is not None]
    return names | temporary_names(texts)


def temporary_names(texts: list[str]) -> set[str]:
    """The tables these statements create as temporary (CREATE TEMP TABLE, … AS, SELECT … INTO TEMP)."""
    from pglast import ast, parse_sql
    from pglast.parser import ParseError

    out: set[str] = set()
    for text in texts:
        if "temp" not in text.lower():
            continue
        try:
            stmts = parse_sql(text)
        except ParseError:
            continue
        for raw in stmts:
            node = raw.stmt
            target = None
            if isinstance(node, ast.CreateStmt):
                target = node.relation
            elif isinstance(node, ast.CreateTableAsStmt) and node.into is not None:
                target = node.into.rel
            elif isinstance(node, ast.SelectStmt) and node.intoClause is not None:
                target = node.intoClause.rel
            if target is not None and target.relpersistence == "t" and target.relname:
                out.add(target.relname)
    return out


def merge_workloads(*workloads: list[Statement]) -> list[Statement]:
    """Merge statements from several servers (primary and replicas) by queryid.

    Replicas are physical copies, so the same statement has the same queryid
    there; calls and time add up, the mean is recomputed.
    """
    merged: dict[tuple[int | str, int | None], Statement] = {}
    for workload in workloads:
        for st in workload:
            # Per role: the same text can name other tables through another role's search_path.
            key = (st.queryid if st.queryid is not None else st.query, st.userid)
            prev = merged.get(key)
            if prev is None:
                merged[key] = st
                continue
            calls = prev.calls + st.calls
            total = prev.total_ms + st.total_ms
            merged[key] = Statement(prev.query, prev.queryid, calls, total, total / calls if calls else 0.0,
                                    prev.rows + st.rows, prev.userid, nested=prev.nested and st.nested)
    return sorted(merged.values(), key=lambda s: (-s.total_ms, str(s.queryid)))


def workload_time(statements: list[Statement]) -> float:
    """The workload's time (ms): the statements the application sent (pg_stat_statements' toplevel rows).

    With ``pg_stat_statements.track = all`` a function's or trigger's statements are counted again, as nested
    rows, inside the time of the call that ran them: a breakdown of that time, not more of it (adding them
    counted a PL/pgSQL report's query twice). Where only nested rows were read (a filter left their callers
    out), their own sum.
    """
    toplevel = [st.total_ms for st in statements if not st.nested]
    return sum(toplevel) if toplevel else sum(st.total_ms for st in statements)


def read_queries_file(text: str) -> list[Statement]:
    """Statements from a .sql file, one call each, split at every ``;`` the scanner sees.

    The scanner (not the parser) splits, so one broken statement does not hide
    the others: it is reported as skipped later, with the parser's reason. A
    quote or comment that never ends swallows the rest of the file, which then
    becomes that one broken statement.
    """
    return fold_executions([Statement(query=chunk, queryid=None, calls=1) for chunk in split_statements(text)])


# PREPARE name / EXECUTE name, after any leading comments: pglast's fingerprint leaves the name out of both.
PREPARED = re.compile(r'(?:\s|/\*.*?\*/|--[^\n]*\n)*(PREPARE|EXECUTE)\s+("(?:[^"]|"")+"|[^\s(;]+)',
                       re.IGNORECASE | re.DOTALL)


def fold_executions(statements: list[Statement]) -> list[Statement]:
    """``EXECUTE name(…)`` counted as a call of the ``PREPARE name …`` it runs, where exactly one matches.

    A log replayed as a --queries file holds one PREPARE and many EXECUTEs;
    the PREPARE's body is what the server plans, so it carries their calls.
    An EXECUTE no PREPARE (or more than one) of the workload names stays as it is.
    """
    from pglast import ast, parse_sql
    from pglast.parser import ParseError

    def root(text: str) -> Any:
        if PREPARED.match(text) is None:
            return None
        try:
            stmts = parse_sql(text)
        except ParseError:
            return None
        return stmts[0].stmt if len(stmts) == 1 else None

    roots = [root(st.query) for st in statements]
    prepared: dict[str, list[int]] = {}
    for i, node in enumerate(roots):
        if isinstance(node, ast.PrepareStmt) and node.name:
            prepared.setdefault(node.name, []).append(i)
    calls: dict[int, tuple[int, float]] = {}
    out: list[Statement | None] = list(statements)
    for i, node in enumerate(roots):
        if isinstance(node, ast.ExecuteStmt) and len(prepared.get(node.name or "", ())) == 1:
            target = prepared[node.name or ""][0]
            n, ms = calls.get(target, (0, 0.0))
            calls[target] = (n + statements[i].calls, ms + statements[i].total_ms)
            out[i] = None
    for target, (n, ms) in calls.items():
        st = statements[target]
        out[target] = replace(st, calls=n, total_ms=ms, mean_ms=ms / n if n else 0.0)
    return [st for st in out if st is not None]


def split_statements(text: str) -> list[str]:
    """Statement texts, without their ``;``; never drops text the scanner cannot read."""
    from pglast.parser import ParseError, scan

    chunks: list[str] = []
    start = 0
    try:
        tokens = scan(text)
    except ParseError as exc:
        # Everything before the statement holding the error is fine; that statement runs to the end.
        loc = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        head = text[:loc]
        parts = split_statements(head) if head.strip() else []
        tail_start = 0
        if parts and not head.rstrip().endswith(";"):
            parts = parts[:-1]
        if parts:
            tail_start = head.rfind(";") + 1 if ";" in head else 0
        broken = head[tail_start:] + text[loc:]
        return parts + ([broken.strip()] if broken.strip() else [])
    for tok in tokens:
        if tok.name == "ASCII_59":      # ';'
            chunks.append(text[start:tok.start])
            start = tok.end + 1
    chunks.append(text[start:])
    return [c.strip() for c in chunks if c.strip()]


def decode_queries(data: bytes, source: str) -> str:
    """The text of a --queries file, or one clear error for bytes that are not UTF-8 SQL."""
    if b"\x00" in data:
        raise InputError(f"{source} is a binary file (it holds NUL bytes), not SQL text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): "
                         "convert it first, e.g. iconv -f latin1 -t utf-8") from None


# Prisma Client names every column by schema, table and column, each quoted: "public"."Survey"."id".
_PRISMA_COLUMN = re.compile(r'"[^"]+"\."[^"]+"\."[^"]+"')


def sent_by_prisma(statements: list[Statement]) -> bool:
    """Do the workload's statements read as Prisma Client writes them (a three-part quoted column name)?

    A database deployed with ``prisma db push`` has no ``_prisma_migrations``
    ledger, yet its NULL-able columns are optional fields the application
    may set to NULL (u15, Formbricks-shaped: NOT NULL proposed on
    "customHeadScriptsMode", ``SurveyScriptMode? @default(add)``). A wrong yes
    only turns NOT NULL proposals into a note.
    """
    return any(_PRISMA_COLUMN.search(st.query) for st in statements)
