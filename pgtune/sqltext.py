"""SQL text on the ground floor: parsing with pglast, walking the tree, typed access to it.

Every room that reads SQL (analyze's binder, explain, the read-only gate,
migration scripts) goes through here, so none of them imports another room
for a parser helper. pglast types most AST fields as optional; the accessors
below say once what an absent field means (an empty tuple, an empty string).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterator
from enum import StrEnum
from functools import lru_cache
from typing import Any

import pglast
from pglast import ast
from pglast import enums as pg_enums


class Failure(StrEnum):
    """Why a text is not one statement pgtune can analyze, decided where the parse fails (``reason`` words it)."""

    SYNTAX = "syntax"            # PostgreSQL's parser rejects it
    INCOMPLETE = "incomplete"    # it stops mid-statement: at its end, or inside a quote or comment never closed
    UTILITY = "utility"          # a command, not a query (BEGIN, SET, VACUUM, CREATE…)
    NOT_ONE = "not-one"          # empty, several statements, or not the expression or type name asked for


class StatementKind(StrEnum):
    """What a statement pgtune analyzes does to its table (row security filters each kind its own way)."""

    SELECT = "select"
    UPDATE = "update"
    DELETE = "delete"
    INSERT = "insert"


class ParseFailed(ValueError):
    """The text is not one statement pgtune can analyze; ``kind`` says which way, ``reason`` says it for a person.

    ``noise`` marks statements that are not workload at all (BEGIN, SET, SHOW,
    VACUUM…): they are left out silently rather than listed as skipped.
    """

    def __init__(self, reason: str, noise: bool = False, kind: Failure = Failure.NOT_ONE) -> None:
        super().__init__(reason)
        self.reason = reason
        self.noise = noise
        self.kind = kind


def parse(sql: str) -> tuple[ast.RawStmt, ...]:
    """Parse with PostgreSQL's own parser (pglast); cached, callers never mutate the tree."""
    return _parse(sql)


@lru_cache(maxsize=20_000)
def _parse(sql: str) -> tuple[ast.RawStmt, ...]:
    try:
        return tuple(pglast.parse_sql(sql))
    except pglast.parser.ParseError as exc:
        location = exc.args[1] if len(exc.args) > 1 else None
        raise ParseFailed(f"unparsable: {exc}", kind=_failure(sql, location)) from None


def forget_parses() -> None:
    """Drop the parse cache's trees: analysis reads each statement's tree, several times over, and keeps what it
    needs of it (a shape, a filter's subtree); after the statements are planned once, few are parsed again. Kept
    to the end, the trees were about 1.5 kB a statement (30 MB of suggest's peak at 20,000 statements, issue 28)."""
    _parse.cache_clear()


# A token that opens where the parser stopped: a string (E'', B'', X'', N'', U&''), a quoted identifier,
# a comment, a dollar quote. Group i's closer is _CLOSERS[i] (a dollar quote closes with its own tag).
_OPENER = re.compile(r"(?:[ebxn]|u&)?(')|(?:u&)?(\")|(/\*)|(\$[a-z_][a-z_0-9]*\$|\$\$)", re.IGNORECASE)
_CLOSERS = ("'", '"', "*/")


def _failure(sql: str, location: int | None) -> Failure:
    """INCOMPLETE when the parser stopped at the end of the text (pglast gives no location then), or at a
    quote or comment that runs to the end and scans once closed; SYNTAX otherwise."""
    if location is None or location >= len(sql):
        return Failure.INCOMPLETE
    rest = sql[location:]
    found = _OPENER.match(rest)
    if found is None:
        return Failure.SYNTAX
    closer = next((c for c, g in zip(_CLOSERS, found.groups(), strict=False) if g), found.group(4))
    try:
        pglast.parser.scan(rest)
        return Failure.SYNTAX                  # the token closes: the parser rejected something else
    except pglast.parser.ParseError:
        pass
    try:
        pglast.parser.scan(rest + closer)
    except pglast.parser.ParseError:
        return Failure.SYNTAX
    return Failure.INCOMPLETE


def stmt(raw: ast.RawStmt) -> ast.Node:
    """The statement inside a RawStmt (pglast types it as optional; the parser always sets it)."""
    node = raw.stmt
    if node is None:
        raise ParseFailed("empty statement")
    return node


def parse_one(sql: str) -> ast.Node:
    """The one statement of ``sql``; ParseFailed for none or several."""
    stmts = parse(sql)
    if len(stmts) != 1:
        raise ParseFailed(f"expected one statement, found {len(stmts)}")
    return stmt(stmts[0])


def what_runs(query: str) -> Any | None:
    """The statement a text runs, a PREPARE's body for a PREPARE (a driver's or pooler's SQL-level PREPARE is
    counted by its executions); None when the text is not one statement pglast can parse."""
    try:
        root: Any = parse_one(query)
    except ParseFailed:
        return None
    return root.query if isinstance(root, ast.PrepareStmt) else root


def seq(value: tuple[Any, ...] | list[Any] | None) -> tuple[Any, ...]:
    """An optional AST list as a tuple (absent: empty)."""
    return tuple(value) if value else ()


def names(nodes: tuple[Any, ...] | list[Any] | None) -> tuple[str, ...]:
    """The String values of a name list (``schema.table``, an operator name, fields)."""
    return tuple(n.sval for n in seq(nodes) if isinstance(n, ast.String) and n.sval is not None)


def text(value: str | None) -> str:
    return value or ""


def printed(node: ast.Node | None) -> str:
    """``node`` printed back as SQL by pglast (names quoted exactly when needed)."""
    if node is None:
        return ""
    if not _links_agree():
        from pglast.stream import RawStream

        return str(RawStream()(node))
    text = _print(node)
    forget_ancestors(node)
    return text


_CANARY = ("WITH w AS MATERIALIZED (SELECT a, count(*) AS n FROM t WHERE b IN (1, 2) AND c ILIKE 'x%' GROUP BY a) "
           "SELECT w.a, (SELECT max(d) FROM u WHERE u.a = w.a), CASE WHEN n > 1 THEN 'x' END FROM w "
           "JOIN v ON v.a = w.a WHERE EXISTS (SELECT 1 FROM z WHERE z.k = v.k AND z.j = ANY($2)) "
           "ORDER BY 2 DESC NULLS LAST LIMIT $1; UPDATE t SET b = b + 1 WHERE a IN (SELECT a FROM u) RETURNING *")


@lru_cache(maxsize=1)
def _links_agree() -> bool:
    """Does ``_print`` print what pglast's RawStream prints, with the pglast installed? Its ancestor links
    copy what pglast's own pass sets, in the version pgtune was written against; a pglast whose printers read
    them otherwise (pyproject allows several) must not change a statement's text (r8): RawStream then
    prints, at its own speed."""
    from pglast.stream import RawStream

    for stmt in pglast.parse_sql(_CANARY):
        ours = _print(stmt)
        forget_ancestors(stmt)
        if ours != str(RawStream()(stmt)):
            return False
    return True


def _print(node: ast.Node) -> str:
    """What ``RawStream()(node)`` prints, with the ancestors its printers read set by ``_link``.

    pglast's own pass (visitors.populate_ancestors) builds a Visitor class and looks up its methods at each
    call, and sets each node's link through the node's validating ``__setattr__``: half of printing's CPU,
    and printing was a tenth of suggest's at benchmarks/speed.py's 5,000 statements."""
    from pglast.stream import RawStream

    stream = RawStream()
    _link(node)
    if not (isinstance(node, ast.RawStmt) and node.stmt is None):
        stream.print_node(node)
        if stream.semicolon_after_last_statement:
            stream.write(";")
    while stream.comments:
        stream.print_comment(stream.comments.pop(0))
    return str(stream.getvalue())


def _link(node: ast.Node) -> None:
    """Each node's ``ancestors`` as pglast's populate_ancestors sets them for ``(node,)``, in the same
    (breadth first) order: the chain of (parent, attribute or index) from the top."""
    from collections import deque

    from pglast.visitors import Ancestor

    link = object.__setattr__
    children = _PRINTED
    todo: deque[tuple[Any, Any]] = deque([(Ancestor(), (node,))])
    while todo:
        chain, item = todo.popleft()
        if isinstance(item, tuple):     # a list of the tree: each element's chain names its index
            pairs = [(Ancestor(chain, item, index), sub) for index, sub in enumerate(item)]
        else:
            pairs = [(chain, item)]
        for below, sub in pairs:
            if isinstance(sub, ast.Node):
                link(sub, "ancestors", below)
                for member in children[type(sub)]:
                    value = getattr(sub, member)
                    if isinstance(value, (tuple, ast.Node)):
                        todo.append((Ancestor(below, sub, member), value))
            elif isinstance(sub, tuple):
                todo.extend((Ancestor(below, sub, i), v) for i, v in enumerate(sub) if isinstance(v, (tuple, ast.Node)))


def forget_ancestors(node: Any) -> None:
    """Undo what printing did to ``node``'s tree: pglast's printer links every node to its parents
    (``node.ancestors``) and leaves them there. On the parse cache's shared trees that was about 1.8 kB a
    statement, kept for the whole run (benchmarks/speed.py at 5,000 statements: 9 MB), and a subtree
    kept later (a filter's) held its whole statement through them."""
    children = _PRINTED
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, tuple):
            stack.extend(n)
        elif isinstance(n, ast.Node):
            if hasattr(n, "ancestors"):
                del n.ancestors
            stack.extend(map(getattr, itertools.repeat(n), children[type(n)]))


def unqualified_relations(query: str) -> set[str]:
    """The relation names a statement reads without a schema (a CTE's name is none); empty if it does not parse."""
    try:
        root: Any = parse_one(query)
    except ParseFailed:
        return set()
    ctes, found = set(), set()
    for n in walk(root):        # one walk for both
        if isinstance(n, ast.RangeVar):
            if n.schemaname is None and n.relname:
                found.add(n.relname)
        elif isinstance(n, ast.CommonTableExpr):
            ctes.add(n.ctename)
    return found - ctes


def walk(node: Any, *, subqueries: bool = True) -> Iterator[Any]:
    """Every pglast node at or below ``node``, depth first; optionally not inside subqueries.

    A stack of iterators, not a generator per node: with nested generators each node passed up through
    one frame per level (8.7 million resumptions at benchmarks/speed.py's 5,000 statements, a tenth of
    suggest's CPU). The order is the same, and a node's attributes are still read only when reached: only
    those that can hold a node (``_CHILDREN``), and a leaf (a String, a ParamRef) pushes no iterator."""
    children = _CHILDREN
    if isinstance(node, ast.Node):
        yield node
        if not subqueries and isinstance(node, (ast.SubLink, ast.SelectStmt)):
            return
        stack: list[Iterator[Any]] = [map(getattr, itertools.repeat(node), children[type(node)])]
    elif isinstance(node, (list, tuple)):
        stack = [iter(node)]
    else:
        return
    while stack:
        for n in stack[-1]:
            if isinstance(n, ast.Node):
                yield n
                slots = children[type(n)]
                if slots and (subqueries or not isinstance(n, (ast.SubLink, ast.SelectStmt))):
                    stack.append(map(getattr, itertools.repeat(n), slots))
                    break
            elif isinstance(n, (list, tuple)):
                stack.append(iter(n))
                break
        else:
            stack.pop()


# The C types of pglast's scalar fields (besides its enums and ``char*``): a field of one holds no node.
_SCALARS = frozenset({"bool", "char", "int", "int16", "int32", "long", "bits32", "Index", "AttrNumber", "ParseLoc",
                      "Cost", "Cardinality", "AclMode", "SubTransactionId", "RelFileNumber", "Oid", "uint32",
                      "double", "float"})


class _Children(dict[type, tuple[str, ...]]):
    """Per node class, its fields that can hold a node or a list, in the class's own order (what walking a tree
    reads: a ColumnRef's ``location``, a RangeVar's five names and flags, a String's value are skipped).
    ``reading``: the fields a reader of the statement walks, without FOR UPDATE OF's names; printing links
    every node the printers reach, those names too (p21: unlinked, they failed the print of any such
    statement with a ``$n``, an internal error that stopped suggest)."""

    def __init__(self, *, reading: bool) -> None:
        super().__init__()
        self.reading = reading

    def __missing__(self, cls: type) -> tuple[str, ...]:
        if self.reading and cls is ast.LockingClause:
            # FOR UPDATE OF a: its lockedRels are RangeVars naming the FROM items' aliases (or tables), not
            # relations read: walked, every RangeVar reader took the alias for a table (c21); the clause's other
            # fields are scalars.
            self[cls] = ()
            return ()
        slots = getattr(cls, "__slots__", ())
        if not isinstance(slots, dict):     # not a field table pglast declares: every attribute, as iterating gives
            found = tuple(slots)
        else:
            found = tuple(name for name, info in slots.items() if _may_hold_node(info))
        self[cls] = found
        return found


def _may_hold_node(info: Any) -> bool:
    ctype = info if isinstance(info, str) else info[0] if isinstance(info, tuple) and info else None
    if not isinstance(ctype, str):
        return True
    if ctype == "char*" or ctype in _SCALARS:
        return False
    return ctype.endswith("*") or not hasattr(pg_enums, ctype)


_CHILDREN = _Children(reading=True)
_PRINTED = _Children(reading=False)    # what _link and forget_ancestors follow: every field that can hold a node


def node_fields(node: ast.Node) -> tuple[str, ...]:
    """The fields of ``node`` that can hold a node or a list, in its class's order (the others hold a scalar)."""
    return _CHILDREN[type(node)]


def expression(sql_text: str) -> Any:
    """The AST of one SQL expression (``lower(email)``, ``status = 'x'``); ParseFailed otherwise."""
    node: Any = parse_one(f"SELECT {sql_text}")
    targets = seq(node.targetList)
    if len(targets) != 1 or node.fromClause:
        raise ParseFailed(f"not a single expression: {sql_text!r}")
    return targets[0].val


def type_name(sql_type: str) -> str:
    """A type name (``bigint``, ``timestamp with time zone``, ``"myType"[]``) re-printed by pglast.

    What the server reported as a parameter type reaches SQL only in this
    form: anything that is not exactly one type name is refused.
    """
    node: Any = expression(f"NULL::{sql_type}")
    if type(node).__name__ != "TypeCast" or type(node.arg).__name__ != "A_Const" or not node.arg.isnull:
        raise ParseFailed(f"not a type name: {sql_type!r}")
    from pglast.stream import RawStream

    return str(RawStream()(node.typeName))


def constant_value(sql_text: str) -> str | None:
    """The value of a constant as the server prints one (``'pending'::text`` → ``pending``); None otherwise."""
    try:
        node: Any = expression(sql_text)
    except ParseFailed:
        return None
    while type(node).__name__ == "TypeCast":
        node = node.arg
    if type(node).__name__ != "A_Const" or node.isnull:
        return None
    val = node.val
    for attr in ("sval", "ival", "fval", "boolval", "bsval"):
        found = getattr(val, attr, None)
        if found is not None:
            return str(found).lower() if attr == "boolval" else str(found)
    return None


_VERBS = {"SelectStmt": "select", "InsertStmt": "insert", "UpdateStmt": "update", "DeleteStmt": "delete",
          "MergeStmt": "merge"}


def statement_label(query: str) -> str:
    """A short name for a statement that is the same wherever and whenever it is computed.

    What it does, to which tables, filtered or sorted by which columns, and six hex digits of
    its text: ``select videos by status, createdAt #3f9a1c``. Twenty statements on one table
    read apart by their columns and, failing that, by the digits.
    """
    digest = hashlib.blake2s(" ".join(query.split()).encode(), digest_size=3).hexdigest()
    try:
        root: Any = parse_one(query)
    except ParseFailed:
        return f"statement #{digest}"
    if isinstance(root, ast.ExplainStmt):
        root = root.query
    verb = _VERBS.get(type(root).__name__, type(root).__name__.removesuffix("Stmt").lower())
    ctes = {c.ctename for c in walk(root) if isinstance(c, ast.CommonTableExpr)}
    tables = list(dict.fromkeys(text(n.relname) for n in walk(root)
                                if isinstance(n, ast.RangeVar) and not (n.schemaname is None and n.relname in ctes)))
    shown = ", ".join(t[:24] for t in tables[:2]) + (f" +{len(tables) - 2}" if len(tables) > 2 else "")
    where = [getattr(root, "whereClause", None), getattr(root, "sortClause", None)]
    columns = list(dict.fromkeys(names(n.fields)[-1] for n in walk(where)
                                 if isinstance(n, ast.ColumnRef) and names(n.fields)))
    by = f" by {', '.join(c[:24] for c in columns[:3])}" + (" …" if len(columns) > 3 else "") if columns else ""
    return " ".join(x for x in (verb, shown) if x) + f"{by} #{digest}"
