"""Types for a PREPARE the server cannot infer: a bare ``$n`` argument of a function that takes "any".

pg_stat_statements normalizes every constant to ``$n``; where the constant was an argument of a function
declared with "any" arguments (``jsonb_build_object``, ``concat``, ``format``…) the server has nothing to type
the ``$n`` from and refuses the PREPARE of the whole statement. What-if costing (explain.Round) and the types
emit reads for verify (baseline.param_types) declare such a ``$n`` text.
"""

from __future__ import annotations

import re
from collections import Counter
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
