"""Candidates whose expression or predicate is not IMMUTABLE, told before HypoPG is asked to make them.

The server refuses an index on an expression or a predicate that calls a
function not marked IMMUTABLE (``CAST("dataSource" AS text)`` of an enum goes
through enum_out, STABLE). HypoPG refuses it the same way, with an ERROR, and
every ERROR is a line in the server's log that a DBA's alerting reads (three a
run of suggest on a Ghostfolio-shaped database). So the server is asked first,
without an error, which functions those expressions run: a temporary view over
them, in a transaction rolled back at once (readonly._operators_used does the
same for operators), stores its parsed tree in pg_rewrite, whose function oids
and I/O coercions are read as the server's own check (contain_mutable_functions)
reads them. Where no temporary view can be made (a standby, a READ ONLY
session, no TEMPORARY privilege) or the tree holds a node this module cannot
read, nothing is told and HypoPG decides, as before.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
from pglast import ast
from pglast.stream import RawStream
from psycopg import sql

from .. import sqltext
from ..capture import TableKey
from ..connect import lost
from ..roles import NoTemporary, rolled_back
from .candidates import Candidate

PROBE_VIEW = "pgtune_immutable_probe_"
PROBE_LOCK_TIMEOUT = "1s"
# What HypoPG (and CREATE INDEX) says of such an index: the rejected candidate's reason is unchanged.
EXPRESSION = "hypopg: functions in index expression must be marked IMMUTABLE"
PREDICATE = "hypopg: functions in index predicate must be marked IMMUTABLE"
_FUNCTION = re.compile(r":(?:funcid|opfuncid) (\d+)")
_ALWAYS_MUTABLE = re.compile(r"\{(?:SQLVALUEFUNCTION|NEXTVALUEEXPR) ")
_TYPE_OF = {"VAR": ":vartype", "CONST": ":consttype", "FUNCEXPR": ":funcresulttype", "OPEXPR": ":opresulttype",
            "PARAM": ":paramtype"}
_READ = ("SELECT /* pgtune */ c.relname::text, r.ev_action::text FROM pg_catalog.pg_rewrite r "
         "JOIN pg_catalog.pg_class c ON c.oid = r.ev_class "
         "WHERE c.relnamespace = pg_catalog.pg_my_temp_schema() AND pg_catalog.starts_with(c.relname::text, %s)")
# An SQL function the planner may inline (inline_function: LANGUAGE sql, a plain function of one row, not SECURITY
# DEFINER, no SET) is judged by CREATE INDEX on its body, whatever its own provolatile: a VOLATILE (the default)
# normalize_email(text) AS 'SELECT lower(trim($1))' is indexable, so it is not told here; HypoPG decides (r23).
_MUTABLE_FUNCTIONS = ("SELECT /* pgtune */ p.oid::bigint FROM pg_catalog.pg_proc p "
                      "WHERE p.oid = ANY(%s::oid[]) AND p.provolatile <> 'i' AND NOT (p.prokind = 'f' "
                      "AND NOT p.proretset AND NOT p.prosecdef AND p.proconfig IS NULL AND p.prolang = "
                      "(SELECT l.oid FROM pg_catalog.pg_language l WHERE l.lanname = 'sql'))")
_IO = ("SELECT /* pgtune */ t.oid::bigint, o.provolatile = 'i', i.provolatile = 'i' FROM pg_catalog.pg_type t "
       "JOIN pg_catalog.pg_proc o ON o.oid = t.typoutput JOIN pg_catalog.pg_proc i ON i.oid = t.typinput "
       "WHERE t.oid = ANY(%s::oid[])")


def refusals(conn: psycopg.Connection[Any], cands: list[Candidate]) -> dict[int, str]:
    """By position in ``cands``: the server's refusal of each candidate whose expression or predicate is not
    IMMUTABLE (EXPRESSION or PREDICATE). Empty when the server cannot be asked without an error."""
    probed = [n for n, c in enumerate(cands) if c.where is not None or any(k.expression for k in c.keys)]
    if not probed:
        return {}
    # One view per distinct expression (an aggregate from a HAVING beside a column would make a shared view
    # fail) and per distinct predicate of a table: candidates share them.
    exprs = sorted({(cands[n].table, k.expression) for n in probed for k in cands[n].keys if k.expression})
    wheres = sorted({(cands[n].table, w) for n in probed if (w := cands[n].where) is not None})
    try:
        with rolled_back(conn, PROBE_LOCK_TIMEOUT):
            with conn.pipeline():       # all made in one round trip, not two per key (1,000 at speed.py's 5k)
                for i, (table, expression) in enumerate(exprs):
                    _make(conn, f"e{i}", table, expression, None)
                for i, (table, where) in enumerate(wheres):
                    _make(conn, f"p{i}", table, None, where)
            made = dict(conn.execute(_READ, (PROBE_VIEW,)).fetchall())
    except NoTemporary:
        return {}
    except psycopg.Error:
        if lost(conn):
            raise
        return {}
    of_expr = {key: str(made.get(f"{PROBE_VIEW}e{i}", "")) for i, key in enumerate(exprs)}
    of_where = {key: str(made.get(f"{PROBE_VIEW}p{i}", "")) for i, key in enumerate(wheres)}
    trees = {n: (" ".join(of_expr[(cands[n].table, k.expression)] for k in cands[n].keys if k.expression),
                 of_where[(cands[n].table, w)] if (w := cands[n].where) is not None else None) for n in probed}
    try:
        return _judge(conn, trees)
    except psycopg.Error:
        if lost(conn):
            raise
        return {}


def _make(conn: psycopg.Connection[Any], name: str, table: TableKey, expression: str | None,
          predicate: str | None) -> None:
    """A temporary view over ``expression`` (or ``predicate``) on ``table``: the server keeps its parsed tree."""
    target = sqltext.expression(expression) if expression is not None else ast.A_Const(isnull=True)
    select = ast.SelectStmt(
        targetList=(ast.ResTarget(val=target),),
        fromClause=(ast.RangeVar(schemaname=table[0], relname=table[1], inh=True),),
        whereClause=sqltext.expression(predicate) if predicate is not None else None)
    conn.execute(sql.SQL("CREATE /* pgtune */ TEMPORARY VIEW {} AS {}").format(
        sql.Identifier("pg_temp", PROBE_VIEW + name), sql.SQL(str(RawStream()(select)))))  # the printer's text


def _judge(conn: psycopg.Connection[Any], trees: dict[int, tuple[str, str | None]]) -> dict[int, str]:
    texts = [t for pair in trees.values() for t in pair if t]
    functions = sorted({int(f) for t in texts for f in _FUNCTION.findall(t)})
    coercions = [c for t in texts for c in _coercions(t)]
    mutable = {int(r[0]) for r in conn.execute(_MUTABLE_FUNCTIONS, (functions,))} if functions else set()
    types = sorted({t for c in coercions for t in c if t is not None})
    io = {int(r[0]): (bool(r[1]), bool(r[2])) for r in conn.execute(_IO, (types,))} if types else {}

    def bad(tree: str | None) -> bool:
        if not tree:
            return False
        if _ALWAYS_MUTABLE.search(tree) or any(int(f) in mutable for f in _FUNCTION.findall(tree)):
            return True
        return any(source is not None and not (io.get(source, (True, True))[0] and io.get(result, (True, True))[1])
                   for source, result in _coercions(tree))

    out: dict[int, str] = {}
    for n, (expression, predicate) in trees.items():
        if bad(expression):
            out[n] = EXPRESSION
        elif bad(predicate):
            out[n] = PREDICATE
    return out


def _coercions(tree: str) -> list[tuple[int | None, int]]:
    """Each I/O coercion (COERCEVIAIO) in ``tree``: its argument's type (None: not read here) and its result type.
    The argument's output function and the result's input function are what it runs."""
    out = []
    for m in re.finditer(r"\{COERCEVIAIO :arg ", tree):
        start = m.end()
        end = _matching(tree, start)
        arg = tree[start:end]
        node = re.match(r"\{(\w+)", arg)
        field = _TYPE_OF.get(node.group(1)) if node else None
        found = re.search(re.escape(field) + r" (\d+)", arg) if field else None
        result = re.match(r"\s*:resulttype (\d+)", tree[end:])
        if result:
            out.append((int(found.group(1)) if found else None, int(result.group(1))))
    return out


def _matching(tree: str, start: int) -> int:
    """The position just past the node that opens at ``start`` (``{…}``, nested)."""
    depth = 0
    for pos in range(start, len(tree)):
        ch = tree[pos]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return pos + 1
    return len(tree)
