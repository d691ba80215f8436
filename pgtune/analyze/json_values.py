"""Values for the ``$n`` that stand for a piece of a jsonb document, taken from one sampled row.

pg_stats keeps whole documents, never their keys, so no statistic names a key
or the value under it. Two shapes ORMs send need one:

* ``jsonb @> $n`` (Prisma's ``equals`` on a Json field, Kysely's contains):
  one top-level pair of a sampled document;
* Prisma's JSON path filters, ``("meta"#>ARRAY[$3]::text[])::jsonb = $4``
  (``#>>`` for string filters, ``jsonb_typeof(…)`` beside a number range):
  the path's keys and the value compared with what they reach, from a
  sampled document that holds such a path.

Without them the statement is planned generic and ``verify --measure`` cannot
run it with values (p13: two of ten targets untimed on a Formbricks-shaped
app). A sampled document's key and value are ones the application wrote;
which key the application filters on is not known: the one whose value prints
longest stands for it, an identifier or an address rather than a flag.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pglast import ast
from pglast.enums import A_Expr_Kind

from ..capture import Catalog, TableKey
from ..sqltext import names, seq
from .exprs import strip_cast
from .params import ParamKind, ParamUse
from .scenarios import ParamValue, ValueSource

Sampler = Callable[[TableKey, list[str]], "dict[str, str] | None"]

TYPEOF = "typeof"                       # jsonb_typeof(path): the value is the type's name
_PATH_OPS = {"#>": "#>", "#>>": "#>>", "->": "#>", "->>": "#>>"}
_COMPARED = {"=", "<>", "<", "<=", ">", ">=", "@>"}
_FLIPPED = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
_TYPES = ((bool, "boolean"), (int, "number"), (float, "number"), (str, "string"), (dict, "object"),
          (list, "array"))


@dataclass(frozen=True)
class Path:
    """A JSON path of one column as the statement wrote it: its keys ("$n" or the constant) and how it reads."""

    column: ast.ColumnRef
    keys: tuple[str, ...]
    extract: str            # "#>" (jsonb), "#>>" (text) or TYPEOF


def path_of(node: Any) -> Path | None:
    """The JSON path ``node`` reads (``col #> ARRAY[$1, 'b']``, ``col -> $1 ->> $2``, ``jsonb_typeof(…)``)."""
    node = strip_cast(node)
    if isinstance(node, ast.FuncCall) and names(node.funcname)[-1:] in (("jsonb_typeof",), ("json_typeof",)):
        args = seq(node.args)
        inner = path_of(args[0]) if len(args) == 1 else None
        return Path(inner.column, inner.keys, TYPEOF) if inner is not None else None
    if not (isinstance(node, ast.A_Expr) and node.kind == A_Expr_Kind.AEXPR_OP and node.name
            and (op := names(node.name)[-1]) in _PATH_OPS):
        return None
    left, right = strip_cast(node.lexpr), strip_cast(node.rexpr)
    items: list[Any] = [right]
    if op in ("#>", "#>>"):
        items = list(seq(right.elements)) if isinstance(right, ast.A_ArrayExpr) else []
    keys = [_key(i) for i in items]
    if not keys or any(k is None for k in keys):
        return None
    if isinstance(left, ast.ColumnRef):
        return Path(left, tuple(k for k in keys if k is not None), _PATH_OPS[op])
    before = path_of(left) if op in ("->", "->>") else None
    if before is None or before.extract != "#>":
        return None
    return Path(before.column, before.keys + tuple(k for k in keys if k is not None), _PATH_OPS[op])


def _key(node: Any) -> str | None:
    node = strip_cast(node)
    if isinstance(node, ast.ParamRef) and node.number:
        return f"${node.number}"
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.String):
        return str(node.val.sval)
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.Integer):
        return str(node.val.ival)           # an array's index: col -> 0
    return None


def compared(expr: ast.A_Expr) -> tuple[Path, str, int | None] | None:
    """A JSON path with a ``$n`` key compared with a value: the path, the operator, the value's ``$n`` (None
    for a constant). Fully constant paths (``meta->>'ref' = $1``) are an index key expression: not here."""
    op = names(expr.name)[-1] if expr.name else ""
    sides: list[tuple[Any, Any, str]]
    if expr.kind in (A_Expr_Kind.AEXPR_LIKE, A_Expr_Kind.AEXPR_ILIKE):
        sides = [(expr.lexpr, expr.rexpr, op)]
    elif expr.kind == A_Expr_Kind.AEXPR_OP and op in _COMPARED:
        sides = [(expr.lexpr, expr.rexpr, op), (expr.rexpr, expr.lexpr, _FLIPPED.get(op, op))]
    else:
        return None
    for path_side, value_side, how in sides:
        path = path_of(path_side)
        if path is not None and any(k.startswith("$") for k in path.keys):
            value = strip_cast(value_side)
            number = int(value.number) if isinstance(value, ast.ParamRef) and value.number else None
            return path, how, number
    return None


def uses(table: TableKey, column: str, path: Path, op: str, value: int | None) -> dict[int, ParamUse]:
    """The ParamUse of each ``$n`` of a compared path: its keys' and its value's."""
    found = {int(k[1:]): ParamUse(table, column, path.extract, kind=ParamKind.JSON_KEY, position=i, path=path.keys,
                                  extract=path.extract)
             for i, k in enumerate(path.keys) if k.startswith("$")}
    if value is not None:
        found[value] = ParamUse(table, column, op, kind=ParamKind.JSON_VALUE, path=path.keys, extract=path.extract)
    return found


def pathed(shape_params: dict[int, ParamUse], params: list[ParamValue], sample: Sampler) -> list[ParamValue]:
    """The keys and values of JSON path filters no other rule gave, from one sampled document per path."""
    groups: dict[tuple[TableKey, str, tuple[str, ...]], list[tuple[int, ParamUse]]] = {}
    for n, use in sorted(shape_params.items()):
        if use.kind in (ParamKind.JSON_KEY, ParamKind.JSON_VALUE) and use.table is not None and n <= len(params) \
                and params[n - 1].source == ValueSource.NONE:
            groups.setdefault((use.table, use.column, use.path), []).append((n, use))
    out = list(params)
    for (table, column, keys), found in sorted(groups.items()):
        row = sample(table, [column])
        walked = _walk(row[column], keys) if row else None
        if walked is None:
            continue
        chosen, value = walked
        for n, use in found:
            text = chosen[use.position] if use.kind == ParamKind.JSON_KEY else _compared_with(value, use)
            if text is not None:
                out[n - 1] = ParamValue(out[n - 1].param, text, ValueSource.SAMPLE, out[n - 1].use)
    return out


def _walk(document: str, keys: tuple[str, ...]) -> tuple[list[str], Any] | None:
    """The keys a path of ``keys`` takes through ``document`` (a ``$n`` picks one) and the value it reaches."""
    try:
        node = json.loads(document)
    except ValueError:
        return None
    chosen: list[str] = []
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        if key.startswith("$"):
            picked = _pick(node, last)
            if picked is None:
                return None
            key = picked
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.lstrip("-").isdigit() and -len(node) <= int(key) < len(node):
            node = node[int(key)]
        else:
            return None
        chosen.append(key)
    return chosen, node


def _pick(node: Any, last: bool) -> str | None:
    """A key of ``node`` for a ``$n``: on the way, one leading deeper; at the end, the scalar printing longest."""
    if isinstance(node, list):
        return "0" if node else None
    if not isinstance(node, dict) or not node:
        return None
    nested = [str(k) for k, v in node.items() if isinstance(v, (dict, list))]
    scalars = [str(k) for k, v in node.items() if not isinstance(v, (dict, list))]
    pool = (scalars or [str(k) for k in node]) if last else (nested or [str(k) for k in node])
    return max(pool, key=lambda k: (len(json.dumps(node[k])), k))


def _compared_with(value: Any, use: ParamUse) -> str | None:
    """The ``$n`` a path's value is compared with, as the statement reads the value (jsonb, text, its type)."""
    if use.extract == TYPEOF:
        return "null" if value is None else next(name for t, name in _TYPES if isinstance(value, t))
    if use.op == "@>":
        return piece(json.dumps(value)) if isinstance(value, (dict, list)) else json.dumps([value])
    if use.extract == "#>":
        return json.dumps(value)
    if value is None:
        return None                  # #>> of a JSON null is SQL NULL: no value matches it
    text = value if isinstance(value, str) else json.dumps(value)
    return f"%{text}%" if use.op in ("~~", "~~*") else text


def contained(shape_params: dict[int, ParamUse], params: list[ParamValue], catalog: Catalog,
              sample: Sampler) -> list[ParamValue]:
    """``jsonb @> $n`` with no other value: one top-level pair of one sampled row's document (``sample``).

    What an application passes to ``@>`` is a piece of a document (``{"email": "…"}``). A document that is
    an array gives one element.
    """
    out = list(params)
    for n, use in sorted(shape_params.items()):
        p = params[n - 1] if n <= len(params) else None
        table = catalog.tables.get(use.table) if use.table is not None else None
        if (p is None or p.source != ValueSource.NONE or use.op != "@>" or use.kind != ParamKind.COLUMN
                or table is None or table.column_type(use.column) != "jsonb"):
            continue
        row = sample(table.key, [use.column])
        found = piece(row[use.column]) if row else None
        if found is not None:
            out[n - 1] = ParamValue(p.param, found, ValueSource.SAMPLE, p.use)
    return out


def piece(document: str) -> str | None:
    """One top-level pair (or element) of a JSON document, as JSON text; None when it has none."""
    try:
        found = json.loads(document)
    except ValueError:
        return None
    if isinstance(found, dict):
        pairs = [(k, v) for k, v in found.items() if not isinstance(v, (dict, list))] or list(found.items())
        if not pairs:
            return None
        key, value = max(pairs, key=lambda kv: (len(json.dumps(kv[1])), kv[0]))
        return json.dumps({key: value})
    if isinstance(found, list) and found:
        return json.dumps([found[0]])
    return None
