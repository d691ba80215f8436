"""Which schema's tables a schema-per-tenant statement ran on, told by its queryid.

An application with one schema per tenant (Twenty's ``workspace_<id>``) sets
``search_path`` per request and sends the same unqualified text to every
tenant. Up to PostgreSQL 17 pg_stat_statements jumbles the relations' OIDs
into the queryid, so it keeps one entry per tenant, all with the same text and
role, and records no path. Binding them all through one path (the role's
most-called ``SET search_path``) put every tenant's calls on one tenant's
tables (p30: a tenant of 100 rows got the calls of one of 150,000, and the
big tenants' statements were planned on the small one's table).

Each candidate path (the ``SET search_path`` values the role's sessions sent,
else one per schema the role may use that holds every name its path misses)
is tried: the text is prepared under it and ``EXPLAIN (VERBOSE)`` gives the
queryid the server computes, which is pg_stat_statements' own. A statement is
bound through the path whose queryid is its own; one no path gives (its
driver sent typed parameters, its constants were of another type) or that
several paths give on different tables (PostgreSQL 18 jumbles names, not
OIDs) is left out with its reason, not bound to a tenant it may not be.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import psycopg
from pglast import ast
from psycopg import pq, sql

from ..connect import lost
from ..roles import Role, Roles, resolve_path
from ..sqltext import ParseFailed, parse_one, unqualified_relations, walk
from .catalog import Catalog
from .workload import Statement

PROBES_FOR_CONSTANTS = 4        # paths tried while finding which $n were constants pg_stat_statements replaced
TOGETHER = 16                   # paths probed in one transaction and round trip (their tables' locks held together)
_INTEGERS = {"smallint", "integer", "bigint"}
_DECIMALS = {"numeric", "real", "double precision"}


@dataclass
class _Text:
    """One role's text and the queryids pg_stat_statements keeps for it."""

    role: Role
    query: str
    names: set[str]
    queryids: set[int] = field(default_factory=set)


def place(conn: psycopg.Connection[Any], roles: Roles, catalog: Catalog, statements: list[Statement]) -> list[str]:
    """Bind each tenant statement through the path its queryid says (``roles.placed``), or say why not
    (``roles.unplaced``); one line per role saying how many were placed and left out."""
    texts: dict[tuple[int, str], _Text] = {}
    for st in statements:
        role = roles.roles.get(st.userid) if st.userid is not None else None
        if role is None or st.queryid is None:
            continue
        item = texts.get((role.oid, st.query))
        if item is None:
            item = texts[(role.oid, st.query)] = _Text(role, st.query, unqualified_relations(st.query))
        item.queryids.add(st.queryid)
    counts: dict[str, list[int]] = {}
    for item in texts.values():
        paths = _candidates(item, catalog)
        if len(paths) < 2:
            continue
        found = _queryids(conn, item, paths)
        tally = counts.setdefault(item.role.name, [0, 0, len(paths)])
        for qid in item.queryids:
            hits = [p for p, q in (found or {}).items() if q == qid]
            if hits and len({_tables(catalog, item.names, p) for p in hits}) == 1:
                roles.placed[qid] = hits[0]
                tally[0] += 1
            else:
                roles.unplaced[qid] = _why(item, len(paths), bool(hits), found is not None)
                tally[1] += 1
    return [f"role {name}: its statements run the same text on {paths} schemas' same-named tables (a schema per "
            f"tenant, search_path set per request): {placed} entries of pg_stat_statements bound to the schema "
            f"their queryid names, {left} left out (no queryid match: see skipped)"
            for name, (placed, left, paths) in sorted(counts.items())]


def place_where_needed(conn: psycopg.Connection[Any], roles: Roles, catalog: Catalog,
                       workload: list[Statement]) -> list[str]:
    """``place`` the entries not placed yet, where a role's sessions set several paths or a statement's names
    are off its role's path (one catalog query tells); nothing otherwise."""
    todo = [st for st in workload if st.queryid is not None
            and st.queryid not in roles.placed and st.queryid not in roles.unplaced]
    return place(conn, roles, catalog, todo) if needed(conn, roles, todo) else []


def needed(conn: psycopg.Connection[Any], roles: Roles, workload: list[Statement]) -> bool:
    """Does a statement of ``workload`` run as a role whose sessions set several paths, or name a relation off
    its role's path? (Only then is the catalog read and are paths tried.)"""
    names = {n for st in workload for n in unqualified_relations(st.query)}
    rows = conn.execute("SELECT /* pgtune */ n.nspname, c.relname FROM pg_catalog.pg_class AS c JOIN "
                        "pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace WHERE c.relname = ANY(%s)",
                        [sorted(names)]).fetchall() if names else []
    held: dict[str, set[str]] = {}
    for schema, name in rows:
        held.setdefault(name, set()).add(schema)
    for st in workload:
        role = roles.roles.get(st.userid) if st.userid is not None else None
        if role is not None and (len(role.session_paths) > 1 or any(
                not held.get(n, set()) & {*role.search_path, "pg_catalog"} for n in unqualified_relations(st.query))):
            return True
    return False


def _candidates(item: _Text, catalog: Catalog) -> list[tuple[str, ...]]:
    """The search paths the role's sessions may have run ``item`` under that bind its names differently."""
    role = item.role
    if not item.names:
        return []
    if len(role.session_paths) > 1:
        paths = [resolve_path(s, role.name, role.usable) for s in role.session_paths]
    else:
        missing = {n for n in item.names if catalog.lookup(None, n, role.search_path) is None
                   and catalog.lookup_view(None, n, role.search_path) is None}
        if not missing:
            return []
        holders = [s for s in sorted(role.usable) if all((s, n) in catalog.tables for n in missing)]
        paths = [(*role.search_path, s) for s in holders]
    kept = {p: _tables(catalog, item.names, p) for p in paths}
    if len(set(kept.values())) < 2:
        return []
    # the largest tables first: a big tenant's run is where a constant's probe finds its queryid soonest
    return sorted((p for p, t in kept.items() if None not in t),
                  key=lambda p: -sum(catalog.tables[k].reltuples for k in kept[p] if k is not None))


def _tables(catalog: Catalog, names: set[str], path: tuple[str, ...]) -> tuple[tuple[str, str] | None, ...]:
    found = []
    for n in sorted(names):
        t = catalog.lookup(None, n, path)
        found.append(t.key if t is not None else None)
    return tuple(found)


def _why(item: _Text, paths: int, several: bool, computed: bool) -> str:
    names = ", ".join(sorted(item.names)[:3])
    if several:
        return (f"its unqualified names ({names}) are in {paths} schemas its role's sessions may set, and its "
                "queryid is the same on several of them (pg_stat_statements kept one entry for them): not "
                "planned on any one tenant's tables")
    if not computed:
        return (f"its unqualified names ({names}) are in {paths} schemas its role's sessions may set, and the "
                "server did not give its queryid under any of them (the text does not prepare alone, or "
                "compute_query_id is off): not planned on any one tenant's tables")
    return (f"its unqualified names ({names}) are in {paths} schemas its role's sessions may set, and none "
            "of them gives its queryid (the driver sent typed parameters, or a constant of another type): "
            "not planned on any one tenant's tables")


def _queryids(conn: psycopg.Connection[Any], item: _Text,
              paths: list[tuple[str, ...]]) -> dict[tuple[str, ...], int] | None:
    """The queryid the server computes for ``item`` under each path; empty where none is one of its
    entries' (their parameters were typed otherwise); None where the server gives none."""
    params = _params(item.query)
    if params is None:
        return None
    types = _prepared(conn, item.query, paths[0])
    if types is None:
        return None
    computed = False
    for kept in range(len(types), -1, -1):   # pg_stat_statements numbers the driver's $n, then its constants
        text = _with_constants(item.query, params, types, kept)
        for path in paths[:PROBES_FOR_CONSTANTS]:
            got = _queryid(conn, text, path)
            computed = computed or got is not None
            if got in item.queryids:
                other = _queryid(conn, text, paths[1] if path != paths[1] else paths[0])
                if other == got:    # two paths' different tables, one queryid: names are jumbled (18), not OIDs
                    return dict.fromkeys(paths, got)
                return _each(conn, text, paths, item.queryids)
    return {} if computed else None


def _each(conn: psycopg.Connection[Any], text: str, paths: list[tuple[str, ...]],
          wanted: set[int]) -> dict[tuple[str, ...], int]:
    """``text``'s queryid under each path, ``TOGETHER`` paths a round trip, until every one of ``wanted`` is
    found: up to 17 the OIDs are in it, so no later path's different tables give one of them (r25: a path a
    round trip each, and every path however few entries were asked for, 10,145 probes and 48 s for 2,000
    schemas)."""
    found: dict[tuple[str, ...], int] = {}
    todo = set(wanted)
    for start in range(0, len(paths), TOGETHER):
        chunk = paths[start:start + TOGETHER]
        got = _queryids_under(conn, text, chunk)
        if got is None:         # one path's failure ended the transaction: each alone
            got = [_queryid(conn, text, p) for p in chunk]
        for path, qid in zip(chunk, got, strict=True):
            if qid is not None:
                found[path] = qid
                todo.discard(qid)
        if not todo:
            break
    return found


def _params(query: str) -> list[tuple[int, int]] | None:
    """Each ``$n``'s (location, number) in ``query``, last first; None if it does not parse."""
    try:
        root = parse_one(query)
    except ParseFailed:
        return None
    return sorted(((int(n.location or 0), int(n.number or 0)) for n in walk(root) if isinstance(n, ast.ParamRef)),
                  reverse=True)


def _with_constants(query: str, params: list[tuple[int, int]], types: list[str], kept: int) -> str:
    """``query`` with each ``$n`` above ``kept`` written as a constant of its type's kind (an integer, a
    decimal, else an untyped NULL, which the server types as it does a quoted literal)."""
    data = query.encode()
    for location, number in params:
        if number <= kept:
            continue
        kind = types[number - 1] if number <= len(types) else ""
        literal = b"0" if kind in _INTEGERS else b"0.0" if kind in _DECIMALS else b"NULL"
        data = data[:location] + literal + data[location + len(f"${number}"):]
    return data.decode()


def _prepared(conn: psycopg.Connection[Any], query: str, path: tuple[str, ...]) -> list[str] | None:
    """The parameter types the server infers for ``query`` under ``path``; None if it refuses it."""
    rows = _probe(conn, query, [path], sql.SQL("SELECT /* pgtune */ parameter_types::text[] FROM "
                                               "pg_catalog.pg_prepared_statements WHERE name = 'pgtune_tenant'"))
    return [str(t) for t in rows[0][0]] if rows is not None and rows[0] is not None else None


def _queryid(conn: psycopg.Connection[Any], text: str, path: tuple[str, ...]) -> int | None:
    """The queryid of ``text`` prepared under ``path`` (EXPLAIN VERBOSE of its EXECUTE, with NULLs)."""
    got = _queryids_under(conn, text, [path])
    return got[0] if got is not None else None


def _queryids_under(conn: psycopg.Connection[Any], text: str, paths: list[tuple[str, ...]]) -> list[int | None] | None:
    """The queryid of ``text`` prepared under each of ``paths``, in one transaction; None if the server refused
    it under one of them."""
    params = _params(text)
    n = max((number for _, number in params), default=0) if params is not None else 0
    args = sql.SQL("({})").format(sql.SQL(", ").join([sql.NULL] * n)) if n else sql.SQL("")
    rows = _probe(conn, text, paths, sql.SQL("EXPLAIN /* pgtune */ (VERBOSE, FORMAT JSON) EXECUTE pgtune_tenant")
                  + args)
    return [_identifier(row[0] if row is not None else None) for row in rows] if rows is not None else None


def _identifier(doc: Any) -> int | None:
    if isinstance(doc, str):
        doc = json.loads(doc)
    qid = doc[0].get("Query Identifier") if isinstance(doc, list) and doc else None
    return int(qid) if qid is not None else None


def _probe(conn: psycopg.Connection[Any], text: str, paths: list[tuple[str, ...]],
           read: sql.SQL | sql.Composed) -> list[Any] | None:
    """``read``'s row with ``text`` prepared as pgtune_tenant under each of ``paths``, in one transaction rolled
    back; None if the server refuses it. One statement per query string (pipeline: extended protocol)."""
    rows = None
    try:
        with conn.pipeline() as pipe, conn.cursor() as cur, ExitStack() as stack:
            try:
                outs = [stack.enter_context(conn.cursor()) for _ in paths]
                cur.execute("BEGIN /* pgtune */ READ ONLY", prepare=False)
                for path, out in zip(paths, outs, strict=True):
                    cur.execute("SELECT /* pgtune */ pg_catalog.set_config('search_path', %s, true)",
                                (", ".join(sql.Identifier(s).as_string(conn) for s in path),), prepare=False)
                    cur.execute(sql.SQL("PREPARE /* pgtune */ pgtune_tenant AS ") + sql.SQL(text), prepare=False)
                    out.execute(read, prepare=False)
                    cur.execute("DEALLOCATE /* pgtune */ pgtune_tenant", prepare=False)
                cur.execute("ROLLBACK /* pgtune */", prepare=False)
                pipe.sync()
                rows = [out.fetchone() for out in outs]
            except psycopg.Error:
                if lost(conn):
                    raise
    except psycopg.Error:
        if lost(conn):
            raise
    finally:
        if rows is None and not lost(conn):
            if conn.info.transaction_status != pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK /* pgtune */", prepare=False)
            left = conn.execute("SELECT /* pgtune */ count(*) FROM pg_catalog.pg_prepared_statements "
                                "WHERE name = 'pgtune_tenant'", prepare=False).fetchone()
            if left and left[0]:
                conn.execute("DEALLOCATE /* pgtune */ pgtune_tenant", prepare=False)
    return rows
