"""The constants of an index key the application wrote, which pg_stat_statements normalized to ``$n``.

The application writes ``to_tsvector('simple', body) @@ to_tsquery('simple', $1)``;
pg_stat_statements keeps ``to_tsvector($2, body) @@ to_tsquery($3, $1)``. An
expression index serves a query only when its expression is the query's
exactly, so ``to_tsvector($2, body)`` names no index: guessing ``'english'``
(the default text search configuration) would build one the query never uses.
pg_qualstats keeps, per queryid, one example of the statement as it was sent,
constants and all (``pg_qualstats_example_queries()``). The two texts are
lined up token by token: they differ only where pg_stat_statements put a
``$n`` for a constant. The constants taken back are only those of an
expression over a column, the part an index key is made of: a function's
argument beside a column (``to_tsvector($2, body)``, ``date_trunc($2, "at")``)
or a JSON field's name (``meta->>$2``). Values the filter compares with stay
what analyze.values makes of them.
"""

from __future__ import annotations

import re
from typing import Any

from pglast import ast
from pglast.parser import scan

from .._text import statement_named
from ..sqltext import ParseFailed, names, parse, printed, seq, walk

JSON_FIELD_OPS = ("->>", "->", "#>>", "#>")     # a JSON field (or path) of a column: an index key expression
MAX_HINTS = 5               # statements named in hints
_CONSTANTS = ("SCONST", "ICONST", "FCONST")
_WORDS = ("TRUE_P", "FALSE_P")          # a boolean written as a word: pg_stat_statements makes it a $n too
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def key_constants(normalized: str, sent: str | None) -> dict[str, str]:
    """``$n`` -> the constant as written (``'simple'``), for each key-expression ``$n`` ``sent`` holds a constant for.

    Empty when there is no example, or when the two texts do not line up (another
    statement under the same queryid, a text cut at the server's limit).
    """
    if not sent:
        return {}
    keys = _key_params(normalized)
    if not keys:
        return {}
    return {k: v for k, v in sent_constants(normalized, sent).items() if k in keys}


def sent_constants(normalized: str, sent: str | None) -> dict[str, str]:
    """``$n`` -> the constant ``sent`` holds there (``'simple'``, ``42``, ``false``), for every ``$n`` of
    ``normalized`` that was a constant in the application's text; empty when the texts do not line up.

    A constant the application writes into its statement (``di.is_deleted = false``) is the same on every
    call; pg_stat_statements keeps it as a ``$n`` all the same, and analyze.values, with only pg_stats to go
    by, valued Langfuse's ``is_deleted = $5`` with ``true``, the rare value (u10).
    """
    lined = _line_up(normalized, sent)
    return lined[0] if lined else {}


def _line_up(normalized: str, sent: str | None) -> tuple[dict[str, str], set[str]] | None:
    """(``$n`` -> the constant ``sent`` holds there, the ``$n`` ``sent`` holds as that same ``$n``: parameters the
    application bound), or None when the two texts do not line up."""
    if not sent:
        return None
    try:
        ours, theirs = list(scan(normalized)), list(scan(sent))
    except Exception:         # pglast's scanner raises its own errors on text it cannot read
        return None
    out: dict[str, str] = {}
    bound: set[str] = set()
    i = j = 0
    while i < len(ours) and j < len(theirs):
        a, b = ours[i], theirs[j]
        mine, other = normalized[a.start:a.end + 1], sent[b.start:b.end + 1]
        if a.name == "PARAM" and (b.name in _CONSTANTS or b.name in _WORDS):
            j += 1
        elif a.name == "PARAM" and other == "-" and j + 1 < len(theirs) and theirs[j + 1].name in _CONSTANTS[1:]:
            b = theirs[j + 1]
            other = sent[theirs[j].start:b.end + 1]
            j += 2
        elif a.name == b.name and mine == other:
            if a.name == "PARAM":
                bound.add(mine)
            i, j = i + 1, j + 1
            continue
        else:
            return None
        if other.startswith("'") or b.name != "SCONST":    # not E'…', U&'…'
            out[mine] = other
        i += 1
    return (out, bound) if i == len(ours) and j == len(theirs) else None


def keyed(query: str, constants: dict[str, str]) -> str:
    """``query`` with each ``$n`` of ``constants`` replaced by the constant the application wrote."""
    if not constants:
        return query
    out, last = [], 0
    for t in scan(query):
        token = query[t.start:t.end + 1]
        if t.name == "PARAM" and token in constants:
            out += [query[last:t.start], constants[token]]
            last = t.end + 1
    return "".join([*out, query[last:]])


def value(constant: str) -> str:
    """The value of a constant as written (``'re''f'`` -> ``re'f``), as analyze.values holds values."""
    if constant.startswith("'") and constant.endswith("'") and len(constant) >= 2:
        return constant[1:-1].replace("''", "'")
    return constant


def values(constants: dict[str, str]) -> dict[str, str]:
    """Each ``$n`` of ``constants`` -> its value."""
    return {k: value(v) for k, v in constants.items()}


def literal(value: str) -> str:
    """A value back as a constant to write in a key expression: a number bare, anything else quoted."""
    if _NUMBER.fullmatch(value):
        return value
    return "'" + value.replace("'", "''") + "'"


def unknown(query: str, constants: dict[str, str]) -> list[str]:
    """The filters' key expressions of ``query`` holding a ``$n`` no constant was taken back for (for a hint)."""
    return sorted({expr for param, (expr, in_filter) in _key_params(query).items()
                   if in_filter and param not in constants})


def _bound_keys(query: str, constants: dict[str, str], sent: str | None) -> list[str]:
    """Of ``unknown``'s expressions, those whose ``$n`` the text as sent holds as a parameter too: the application
    binds the key (``state->>$2 = $1``), it wrote no constant there."""
    lined = _line_up(query, sent)
    bound = lined[1] if lined else set()
    return sorted({expr for param, (expr, in_filter) in _key_params(query).items()
                   if in_filter and param not in constants and param in bound})


def _key_params(query: str) -> dict[str, tuple[str, bool]]:
    """Each ``$n`` that is a function's argument beside a column, or a JSON field's name of a column, with the
    expression it stands in and whether that expression is compared in a filter (an operator's operand)."""
    try:
        stmts = parse(query)
    except ParseFailed:
        return {}
    operands = {id(_bare(side)) for n in walk(stmts) if isinstance(n, ast.A_Expr) and not _json_field(n)
                for side in (n.lexpr, n.rexpr) if side is not None}
    found: dict[str, tuple[str, bool]] = {}
    for node in walk(stmts):
        params: list[Any] = []
        if isinstance(node, ast.FuncCall):
            args = [_bare(a) for a in seq(node.args)]
            if any(_has_column(a) for a in args):
                params = [a for a in args if isinstance(a, ast.ParamRef) and a.number]
        elif _json_field(node) and _has_column(node.lexpr):
            right = _bare(node.rexpr)
            params = [right] if isinstance(right, ast.ParamRef) and right.number else []
        for p in params:
            found.setdefault(f"${p.number}", (printed(node), id(node) in operands))
    return found


def _json_field(node: Any) -> bool:
    return isinstance(node, ast.A_Expr) and bool(node.name) and names(node.name)[-1] in JSON_FIELD_OPS


def _bare(node: Any) -> Any:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node


def _has_column(node: Any) -> bool:
    return any(isinstance(n, ast.ColumnRef) for n in walk(node, subqueries=False))


def hints(statements: list[tuple[int | None, str, dict[str, str]]], examples: dict[int, str], *,
          from_server: bool) -> list[str]:
    """One line per statement whose filter compares a key expression holding a ``$n`` not taken back."""
    out = []
    for queryid, query, constants in statements:
        exprs = unknown(query, constants)
        if not exprs:
            continue
        bound = _bound_keys(query, constants, examples.get(queryid or 0)) if from_server else []
        if bound:
            out.append(f"{statement_named(query, queryid)}: {', '.join(bound)}: the application sends the key "
                       "as a bind parameter (pg_qualstats' example of the statement as sent holds the $n too), so "
                       "each call may read another key; an expression index serves a query only when its "
                       "expression is the query's exactly, so none is proposed for it: if the key is the same on "
                       "every call, write it into the statement as a constant")
            continue
        if not from_server:
            where = "the text holds a $n there"
        elif (queryid or 0) in examples:
            where = ("pg_stat_statements keeps a constant the application wrote there as a $n (a parameter it "
                     "binds looks the same), and pg_qualstats' example of the statement does not line up with its "
                     "text (another statement under the queryid, or a text cut short)")
        else:
            where = ("pg_stat_statements shows a $n there: a constant the application wrote, or a parameter it "
                     "binds, which its text cannot tell apart; pg_qualstats holds no example of the statement as "
                     "sent (not sampled, or evicted: pg_qualstats.max)")
        out.append(f"{statement_named(query, queryid)}: {', '.join(exprs)}: {where}; an expression index serves a "
                   "query only when its expression is the query's exactly, so none is proposed on a guess (give the "
                   "statement with its constants in a --queries file)")
    return out[:MAX_HINTS]
