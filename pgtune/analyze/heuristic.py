"""Heuristic mode (no HypoPG): the candidates worth proposing when no plan can be asked which ones pay.

With HypoPG the planner decides which candidate a statement would use; without
it pgtune proposes what the statements' shapes justify, busiest first. Each
proposal is an index every write then maintains, so the list a DBA reads must
not hold two where one does the work: a covering twin, ``("userId") INCLUDE
("deletedAt", id)``, beside ``("userId", status, "createdAt")`` leading with the
same key. Only a plan could show the index-only scan worth a second index on
that key; without one the wider index serves the lookup, and the twin's INCLUDE
is left out (orm_app: four indexes leading "userId" on Document became three).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg
from pglast import ast

from ..capture import Catalog
from ..ddl import IndexKey
from ..sqltext import ParseFailed, expression, names, walk
from . import immutable, served_now
from .analysis import Analysis
from .candidates import WORKLOAD, Candidate, merge, serves

# Of a full and a partial candidate for the same statements, the partial is built when its predicate keeps fewer
# than this share of the rows: a quarter of the full index's size or less, and the writes to the other rows skip
# it; above, the full one serves the statement's other constants too (p24: 19.4 MB and 3.4 MB, both proposed).
FEW_ROWS = 0.25


def ranked(conn: psycopg.Connection[Any], catalog: Catalog, merged: list[Candidate], analyses: list[Analysis],
           hints: list[str]) -> list[Candidate]:
    """``merged`` less the covering twins another candidate's keys serve and those whose statements an index
    serves already (analyze.served_now), busiest first."""
    calls = [a.statement.calls for a in analyses]
    merged = _policed_keys(conn, _immutable_keys(conn, merged, hints), analyses, hints)

    def bare(c: Candidate) -> Candidate:
        plain = replace(c, include=())
        hosted = c.include and any(o is not c and o.table == c.table and serves(o.keys, o.where, o.include, plain)
                                   for o in merged)
        return plain if hosted else c

    folded = served_now.review(conn, catalog, merge([bare(c) for c in merged]), analyses, hints)
    return sorted(_full_or_partial(folded), key=lambda c: -sum(calls[p] for p in c.statements))


def _full_or_partial(cands: list[Candidate]) -> list[Candidate]:
    """One of a full and a partial candidate for the same statements (candidates.from_shape makes both where the
    statement's predicate keeps RARE_VALUE to NARROWS of the rows; with HypoPG the planner picks): the partial where
    it keeps under FEW_ROWS of them, else the full (the partial's keys are the full one's, less the columns its
    predicate pins). A full one that serves other statements too stays, and the partial beside it only where it
    keeps few rows."""
    dropped: set[int] = set()
    for p in cands:
        if p.where is None or p.origin != WORKLOAD or id(p) in dropped:
            continue
        few = p.where_fraction is not None and p.where_fraction < FEW_ROWS
        for f in cands:
            if (f.where is None and f.origin == WORKLOAD and f.table == p.table and id(f) not in dropped
                    and p.statements <= f.statements and set(p.columns) <= set(f.columns)):
                if f.statements == p.statements:
                    dropped.add(id(f) if few else id(p))
                elif not few:
                    dropped.add(id(p))
                if id(p) in dropped:
                    break
    return [c for c in cands if id(c) not in dropped]


def _policed_keys(conn: psycopg.Connection[Any], merged: list[Candidate], analyses: list[Analysis],
                  hints: list[str]) -> list[Candidate]:
    """Each candidate cut before its first expression key over a function that is not leakproof, where row
    security filters every statement it serves on its table for the statement's role.

    The planner applies a policy's filter before any filter that could leak a row (a function not marked
    LEAKPROOF, such as lower()): such a filter is never an index condition for the application's role (p21,
    chatwoot-shaped: ``account_id = $1 AND lower(email) = lower($2)`` under a tenant policy read by a Bitmap
    Heap Scan on (account_id) filtering lower(email), with (lower(email), account_id) there; a proposed
    (account_id, lower(email)) was 15 MB no plan of the role used). So does an operator's function
    (``data ->> 'kind'``: jsonb_object_field_text is not LEAKPROOF; r21). A plan with HypoPG shows it; here the
    shapes alone decide."""
    funcs: dict[str, set[str]] = {}
    for c in merged:
        for k in c.keys:
            if k.expression is not None and k.expression not in funcs:
                try:
                    # a function's name, or an operator's (symbols: the two never clash)
                    funcs[k.expression] = {names(n.funcname if isinstance(n, ast.FuncCall) else n.name)[-1]
                                           for n in walk(expression(k.expression))
                                           if (isinstance(n, ast.FuncCall) and names(n.funcname))
                                           or (isinstance(n, ast.A_Expr) and names(n.name))}
                except ParseFailed:
                    funcs[k.expression] = set()
    wanted = sorted(set().union(*funcs.values())) if funcs else []
    if not wanted:
        return merged
    # A function any of whose overloads leaks; an operator none of whose does (->>, ||, +: not = of text or int).
    leaky = {r[0] for r in conn.execute(
        "SELECT /* pgtune */ p.proname FROM pg_catalog.pg_proc AS p WHERE p.proname = ANY (%(n)s) "
        "GROUP BY p.proname HAVING NOT pg_catalog.bool_and(p.proleakproof) "
        "UNION SELECT o.oprname FROM pg_catalog.pg_operator AS o JOIN pg_catalog.pg_proc AS p ON p.oid = o.oprcode "
        "WHERE o.oprname = ANY (%(n)s) GROUP BY o.oprname HAVING NOT pg_catalog.bool_or(p.proleakproof)",
        {"n": wanted})}
    out = []
    for c in merged:
        policed = bool(c.statements) and all(any(f.table == c.table and not f.denies
                                                 for f in analyses[p].shape.row_filters) for p in c.statements)
        cut = next((i for i, k in enumerate(c.keys) if policed and k.expression is not None
                    and funcs.get(k.expression, set()) & leaky), None)
        if cut is None:
            out.append(c)
            continue
        key = c.keys[cut].expression
        hints.append(f"no index key {key} on {c.table[0]}.{c.table[1]}: row security filters its statements "
                     f"for their role, and the planner applies a filter calling a function or operator that is not "
                     "LEAKPROOF "
                     f"({', '.join(sorted(funcs.get(key or '', set()) & leaky))}) after the policy, never "
                     "through an index")
        if cut > 0:
            out.append(replace(c, keys=c.keys[:cut], equality=min(c.equality, cut)))
    return out


def _immutable_keys(conn: psycopg.Connection[Any], merged: list[Candidate], hints: list[str]) -> list[Candidate]:
    """Each candidate cut before its first expression key that is not IMMUTABLE, and none with such a predicate:
    the server refuses such an index, so its migration failed at apply (``CAST("dataSource" AS text)`` of an
    enum, c25). With HypoPG the same candidate is listed under rejected (costing.creatable)."""
    # one probe per key and per predicate (refusals makes one view per distinct one): a refusal names its key
    probes = [Candidate(c.table, (IndexKey(k.expression, expression=k.expression),), 1)
              for c in merged for k in c.keys if k.expression is not None]
    probes += [Candidate(c.table, (IndexKey("?"),), 1, where=c.where) for c in merged if c.where is not None]
    told = immutable.refusals(conn, probes)
    if not told:
        return merged
    refused = {(p.table, p.where is not None, p.where or p.keys[0].expression): told[n] for n, p in enumerate(probes)
               if n in told}
    out = []
    for c in merged:
        if c.where is not None and (c.table, True, c.where) in refused:
            hints.append(f"no partial index WHERE {c.where} on {c.table[0]}.{c.table[1]}: the server refuses it "
                         f"({refused[(c.table, True, c.where)].removeprefix('hypopg: ')})")
            continue
        cut = next((i for i, k in enumerate(c.keys) if (c.table, False, k.expression) in refused), None)
        if cut is None:
            out.append(c)
            continue
        key = c.keys[cut].expression
        hints.append(f"no index key {key} on {c.table[0]}.{c.table[1]}: the server refuses it "
                     f"({refused[(c.table, False, key)].removeprefix('hypopg: ')})")
        if cut > 0:
            out.append(replace(c, keys=c.keys[:cut], equality=min(c.equality, cut)))
    return out
