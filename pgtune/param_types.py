"""Types for a PREPARE the server cannot infer: a bare ``$n`` argument of a function that takes "any".

pg_stat_statements normalizes every constant to ``$n``; where the constant was an argument of a function
declared with "any" arguments (``jsonb_build_object``, ``concat``, ``format``…) the server has nothing to type
the ``$n`` from and refuses the PREPARE of the whole statement. What-if costing (explain.Round) and the types
emit reads for verify (baseline.param_types) declare such a ``$n`` text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable
from functools import lru_cache
from typing import Any

import pglast
from pglast import ast
from pglast.parser import ParseError

from .sqltext import walk

# Functions whose arguments (all but a few) are of type "any": the server cannot type a bare $n there. JSON
# object keys and values, array elements, concat's and format's pieces, num_nulls' arguments.
_ANY_ARGS = frozenset({"json_build_object", "jsonb_build_object", "json_build_array", "jsonb_build_array",
                       "json_object_agg", "jsonb_object_agg", "concat", "concat_ws", "format", "num_nulls",
                       "num_nonnulls", "pg_typeof", "pg_column_size"})
_ANY_ARGS_TEXT = re.compile(r"\b(?:jsonb?_build_(?:object|array)|jsonb?_object_agg|concat(?:_ws)?|format|"
                            r"num_(?:non)?nulls|pg_typeof|pg_column_size)\s*\(", re.IGNORECASE)


@lru_cache(maxsize=50_000)
def object_key_types(query: str, nparams: int) -> list[str] | None:
    """Types for a PREPARE of a statement with a bare ``$n`` argument of a function that takes "any": text
    there, ``unknown`` (the server infers it) elsewhere; None when it has no such ``$n``.

    Prisma's relationJoins build each row as ``JSONB_BUILD_OBJECT('id', "t0"."id", …)``, normalized to
    ``JSONB_BUILD_OBJECT($9, …)``: the function takes "any", so the server cannot type ``$9`` and refuses
    the PREPARE of the whole text ("could not determine data type of parameter $9"): p18's Cal.com-shaped
    workload's costliest statement, 44% of its time, was left out as "cannot plan" once every $n had a value.
    A value there (``'kind', $3``), an array element, a piece of ``concat``/``format`` is the same (r19).
    Each was a literal before pg_stat_statements normalized it: the server read it as text.
    """
    if not nparams or not _ANY_ARGS_TEXT.search(query):
        return None
    try:
        # A tree of its own, not parse()'s cache: a what-if Round is made for every statement during the selection,
        # which runs without the statements' trees (sqltext.forget_parses; test_parse_memory).
        stmts = pglast.parse_sql(query)
    except ParseError:
        return None
    nodes = list(walk(stmts[0].stmt if len(stmts) == 1 else None))
    bare = [int(arg.number) for f in nodes
            if isinstance(f, ast.FuncCall) and f.funcname and getattr(f.funcname[-1], "sval", None) in _ANY_ARGS
            for arg in (_bare(a) for a in (f.args or ())) if isinstance(arg, ast.ParamRef) and arg.number]
    # A $n the statement also uses elsewhere (an application's own text: "id" = $1 … concat($1, …)) is typed
    # there by the server: declared text it could no longer be compared with an integer.
    everywhere = Counter(int(n.number) for n in nodes if isinstance(n, ast.ParamRef) and n.number)
    bare = [n for n, k in Counter(bare).items() if everywhere[n] == k]
    if not bare or max(bare) > nparams:
        return None
    return ["text" if n in bare else "unknown" for n in range(1, nparams + 1)]


def _bare(node: Any) -> Any:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node


# A PREPARE refused for a type: no operator for it (42883), no single function (42725), a mismatch (42804).
RETRY_STATES = frozenset({"42883", "42725", "42804"})
# The type the server names beside the text (or unknown) the untyped $n were read as, in its refusal.
_NAMED = (re.compile(r"^operator does not exist: (.+) \S+ (.+)$"),
          re.compile(r"^\w+ types (.+) and (.+) cannot be matched$"),
          re.compile(r"^column \".*\" is of type (.+) but expression is of type (.+)$"))
_UNTYPED = frozenset({"text", "text[]", "unknown"})
# A statement's types once a retyped PREPARE was accepted, by its text and the session it was planned in (its
# explain.PlanContext: a tenant's role and search_path, where the same text's columns may have other types, r22).
_RETYPED: dict[tuple[str, Hashable], tuple[str, ...]] = {}
_MAX_RETYPED = 10_000


def inferred_types(query: str, nparams: int, where: Hashable = None) -> list[str] | None:
    """The types a PREPARE of ``query`` declares when its caller names none: those a retry found it needs
    (``retyped``), else object_key_types'."""
    known = _RETYPED.get((query, where))
    if known is not None and len(known) == nparams:
        return list(known)
    return _series_types(query, nparams, object_key_types(query, nparams))


def _series_types(query: str, nparams: int, types: list[str] | None) -> list[str] | None:
    """``types`` with generate_series' bare bounds typed as ``retyped`` would after the server's refusal
    (``generate_series(unknown, unknown) is not unique``): p29's seed INSERT ... FROM generate_series($5, $6)
    left 3 ERROR lines in the server's log per suggest run, one per PREPARE refused before its retry."""
    if not nparams or "generate_series" not in query.lower():
        return types
    out = list(types) if types else ["unknown"] * nparams
    for numbers, fixed in _bare_params(query):
        if fixed is not None and all(n <= nparams and out[n - 1] == "unknown" for n in numbers):
            for n in numbers:
                out[n - 1] = fixed
    return out if out != ["unknown"] * nparams else types


def retyped(query: str, text: str, nparams: int, sqlstate: str | None, message: str | None,
            tried: list[str] | None) -> list[str] | None:
    """Types for another PREPARE of ``text`` (``query`` as planned) after the server refused one typed ``tried``;
    None when no $n it cannot type is left to type.

    pg_stat_statements left a constant array's elements, a VALUES list's and generate_series' bounds bare ``$n``:
    ``unnest(ARRAY[$1,$2]) AS u(x)`` is a text[] to the server, so ``e.account_id = u.x`` has no operator
    (integer = text); ``generate_series($1, $2)`` no single function. The constants were of the type they met:
    the first array (or VALUES column) still untyped takes the type the server's refusal names (integer), the
    next refusal types the next; generate_series' bounds are bigint, or timestamptz with an interval step. Only a
    statement the server refused is retyped: one that prepares as it is keeps the types the server infers.
    """
    if sqlstate not in RETRY_STATES or not nparams:
        return None
    types = list(tried) if tried and len(tried) == nparams else ["unknown"] * nparams
    named = _named_type(message or "")
    changed = False
    for numbers, fixed in _bare_params(text):
        if any(n > nparams or types[n - 1] != "unknown" for n in numbers):
            continue
        type_ = fixed or named
        if type_ is None:
            continue
        for n in numbers:
            types[n - 1] = type_
        changed = True
        if fixed is None:
            named = None        # one group a refusal: the next refusal names the next group's type
    return types if changed else None


def remember(query: str, types: list[str], where: Hashable = None) -> None:
    """``query`` prepares with ``types`` (``retyped``) in session ``where``: its later plans there (what-if, emit's
    baseline) use them."""
    if len(_RETYPED) >= _MAX_RETYPED:
        _RETYPED.clear()
    _RETYPED[(query, where)] = tuple(types)


def forget(query: str, where: Hashable = None) -> bool:
    """Drop the types ``query`` was remembered with in ``where``; False when there were none. Sessions ``where``
    does not tell apart (a search_path set for the whole session) can hold another statement of the same text:
    one the remembered types made fail is planned again as the server types it (r22)."""
    return _RETYPED.pop((query, where), None) is not None


def _named_type(message: str) -> str | None:
    """The type the server names opposite the text (or unknown) ones in ``message``; an array's element type."""
    for pattern in _NAMED:
        found = pattern.match(message.strip())
        if found:
            others = [t for t in found.groups() if t not in _UNTYPED]
            if len(others) == 1 and found.groups().count(others[0]) == 1:
                return others[0].removesuffix("[]")
    return None


@lru_cache(maxsize=1_000)
def _bare_params(text: str) -> tuple[tuple[tuple[int, ...], str | None], ...]:
    """The groups of bare ``$n`` of ``text`` the server types as one, in the text's order, each with the type it
    takes (None: the one a refusal names): an array constructor's elements, a VALUES list's column (not an
    INSERT's own rows: their columns type them), generate_series' bounds where no argument has a type."""
    try:
        stmts = pglast.parse_sql(text)      # a tree of its own, as object_key_types'
    except ParseError:
        return ()
    root = stmts[0].stmt if len(stmts) == 1 else None
    inserted = root.selectStmt if isinstance(root, ast.InsertStmt) else None
    out: list[tuple[tuple[int, ...], str | None]] = []
    for node in walk(root):
        if isinstance(node, ast.A_ArrayExpr):
            out.append((_numbers(node.elements or ()), None))
        elif isinstance(node, ast.SelectStmt) and node.valuesLists and node is not inserted:
            rows = [tuple(getattr(r, "items", None) or r) for r in node.valuesLists]
            out += [(_numbers([row[k] for row in rows if k < len(row)]), None) for k in range(max(map(len, rows)))]
        elif (isinstance(node, ast.FuncCall) and node.funcname
              and getattr(node.funcname[-1], "sval", None) == "generate_series"):
            args = list(node.args or ())
            bounds = _numbers(args[:2])
            if len(bounds) == 2 and len(args) <= 3:
                step = args[2] if len(args) == 3 else None
                interval = isinstance(step, ast.TypeCast) and _type_word(step) == "interval"
                out.append((bounds, "timestamptz" if interval else "bigint"))
    return tuple((numbers, fixed) for numbers, fixed in out if numbers)


def _numbers(nodes: Any) -> tuple[int, ...]:
    return tuple(int(n.number) for n in nodes if isinstance(n, ast.ParamRef) and n.number)


def _type_word(cast: ast.TypeCast) -> str | None:
    names = cast.typeName.names if cast.typeName is not None else ()
    return getattr(names[-1], "sval", None) if names else None
