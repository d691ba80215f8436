"""Beyond the b-tree: the filters a GIN or a BRIN index serves, and the candidates they make.

A b-tree answers equality, ranges and prefixes. It cannot answer
``title ILIKE '%shoe%'`` (Prisma's ``contains`` with ``mode: 'insensitive'``)
nor a regular expression: a GIN index of the column's trigrams
(``gin_trgm_ops``, pg_trgm) can, when the pattern holds three characters in a
row. A ``jsonb`` column tested with ``@>`` gets GIN ``jsonb_path_ops`` (smaller,
faster, containment only); tested with ``?``, ``?|`` or ``?&`` the default
``jsonb_ops``. An array tested with ``@>``, ``<@`` or ``&&`` gets GIN, so does
a ``tsvector`` (or a ``to_tsvector(…)`` expression) matched with ``@@``.

A range filter on a column that follows the table's physical order
(``pg_stats.correlation`` near ±1) on a table that is appended to gets a BRIN
candidate: a summary per block range, a thousandth of a b-tree's size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pglast import ast
from pglast.enums import A_Expr_Kind

from ..capture import Catalog, ColumnInfo, Table, TableKey
from ..ddl import IndexKey, IndexMethod
from ..explain import prepare_text
from ..sqltext import ParseFailed, expression, names, printed, walk
from . import written
from .extended_stats import Planned
from .filters import table_filters

CORRELATED = 0.95          # |pg_stats.correlation| at least this: the column follows the physical order
BRIN_MIN_ROWS = 100_000    # a BRIN summary pays off on large tables only
TRIGRAM = "pg_trgm"


class Operator(StrEnum):
    """The filters that make a GIN or BRIN candidate."""

    LIKE = "LIKE"
    ILIKE = "ILIKE"
    REGEX = "~"
    IREGEX = "~*"
    CONTAINS = "@>"
    CONTAINED = "<@"
    OVERLAPS = "&&"
    EXISTS = "?"
    EXISTS_ANY = "?|"
    EXISTS_ALL = "?&"
    MATCHES = "@@"
    RANGE = "range"


_OPERATORS = {"~~": Operator.LIKE, "~~*": Operator.ILIKE, "~": Operator.REGEX, "~*": Operator.IREGEX,
              "@>": Operator.CONTAINS, "<@": Operator.CONTAINED, "&&": Operator.OVERLAPS, "?": Operator.EXISTS,
              "?|": Operator.EXISTS_ANY, "?&": Operator.EXISTS_ALL, "@@": Operator.MATCHES,
              "<": Operator.RANGE, "<=": Operator.RANGE, ">": Operator.RANGE, ">=": Operator.RANGE}
_PATTERN = (Operator.LIKE, Operator.ILIKE)
_TRIGRAM = (Operator.LIKE, Operator.ILIKE, Operator.REGEX, Operator.IREGEX)
_JSONB_PATH = frozenset({Operator.CONTAINS})       # what jsonb_path_ops serves (and @?, @@ on jsonpath)
# What a statement's text holds when one of its terms has an operator above: each is spelled with these
# characters (OPERATOR(pg_catalog.~~) too), LIKE and ILIKE as words; a range with < or > or BETWEEN.
_WANTED_NO_RANGE = re.compile(r"[~@&?]|like", re.IGNORECASE)
_WANTED = re.compile(r"[~@&?<>]|like|between", re.IGNORECASE)
_KINDS = (A_Expr_Kind.AEXPR_OP, A_Expr_Kind.AEXPR_LIKE, A_Expr_Kind.AEXPR_ILIKE)


@dataclass
class KindCandidate:
    """A GIN or BRIN index on one key, and the statements whose filters it serves."""

    table: TableKey
    key: IndexKey
    method: IndexMethod
    extension: str | None = None
    operators: set[Operator] = field(default_factory=set)
    statements: list[int] = field(default_factory=list)     # positions in the planned list
    filters: list[str] = field(default_factory=list)        # the terms it serves, as written
    evidence: str = ""                                       # what the reason says beyond the filters


@dataclass(frozen=True)
class _Term:
    table: TableKey
    column: str
    expression: str | None           # the key when an expression stands (lower(title), to_tsvector(…))
    operator: Operator
    text: str


def terms(catalog: Catalog, statements: list[Planned]) -> list[list[_Term]]:
    """Per statement, its filter terms a GIN or BRIN index serves: worked out once for ``candidates`` and
    ``run_time_config`` (each statement re-parsed and its terms printed: 8% of suggest's CPU at 5,000
    statements when both did it). A range term is one only where a table could take a BRIN (``_brin_table``):
    elsewhere no candidate comes of it, and without any such table a statement needs one of the other
    operators in its text to be parsed at all (a fifth of suggest's CPU at 5,000 statements, issue 28)."""
    ranges = any(_brin_table(t) for t in catalog.tables.values())
    wanted = _WANTED if ranges else _WANTED_NO_RANGE
    return [_terms(catalog, st, wanted, ranges) for st in statements]


def candidates(catalog: Catalog, statements: list[Planned], trigram_schema: str | None = None,
               found_terms: list[list[_Term]] | None = None) -> list[KindCandidate]:
    """The GIN and BRIN candidates the workload's filters make, one per table, key and operator class.

    ``trigram_schema``: where pg_trgm is (or would go); None: the server has no
    pg_trgm, so no trigram candidate. ``found_terms``: ``terms`` of the statements, when already known.
    """
    found: dict[tuple[TableKey, str, str], KindCandidate] = {}
    each = found_terms if found_terms is not None else terms(catalog, statements)
    for position, (st, mine) in enumerate(zip(statements, each, strict=True)):
        for term in mine:
            cand = _candidate(catalog, term, trigram_schema)
            if cand is None:
                continue
            k = (cand.table, cand.key.expression or cand.key.column, str(cand.method))
            have = found.setdefault(k, cand)
            if not have.evidence:
                have.evidence = _taken_back(st, cand.key.expression)
            have.operators.add(term.operator)
            if position not in have.statements:
                have.statements.append(position)
            if term.text not in have.filters:
                have.filters.append(term.text)
    out = []
    for cand in found.values():
        if cand.method == IndexMethod.GIN and _column_type(catalog, cand) == "jsonb":
            # jsonb_path_ops serves containment only; any key-exists test needs jsonb_ops (the default).
            opclass = "jsonb_path_ops" if cand.operators <= _JSONB_PATH else None
            cand.key = IndexKey(cand.key.column, expression=cand.key.expression, opclass=opclass)
        out.append(cand)
    return out


def _taken_back(st: Planned, expr: str | None) -> str:
    """Where a key expression's constant came from, when pg_stat_statements had it as a $n (analyze.written)."""
    taken = [f"{c} ({p} in pg_stat_statements)" for p, c in sorted(st.written.items()) if expr and c in expr]
    if not taken:
        return ""
    return (f"{', '.join(taken)}: the constant{'s' if len(taken) > 1 else ''} the application wrote, from "
            "pg_qualstats' example of the statement as sent")


def _column_type(catalog: Catalog, cand: KindCandidate) -> str | None:
    info = catalog.table_columns(cand.table).get(cand.key.column)
    return info.type if info is not None else None


def _terms(catalog: Catalog, st: Planned, wanted: re.Pattern[str], ranges: bool) -> list[_Term]:
    """Each single-table filter term of the statement whose operator a GIN or BRIN index serves."""
    if not wanted.search(st.query):
        return []       # prepare_text and written.keyed add no operator: neither is worked out
    try:
        text = written.keyed(prepare_text(st.query)[0], st.written)
    except ValueError:
        return []

    def keep(node: Any) -> bool:
        """Could ``_classify`` take the term? Only those are printed (and classified)."""
        if not isinstance(node, ast.A_Expr):
            return False
        if node.kind == A_Expr_Kind.AEXPR_BETWEEN:
            return ranges
        op = _OPERATORS.get(names(node.name)[-1] if node.name else "")
        return node.kind in _KINDS and op is not None and (ranges or op != Operator.RANGE)

    out = []
    for f in table_filters(text, catalog, st.search_path, keep):
        for term in f.terms:
            found = _classify(term, st.values)
            if found is not None:
                column, expr, op = found
                out.append(_Term(f.table, column, expr, op, term))
    return out


def _classify(term: str, values: dict[str, str | None]) -> tuple[str, str | None, Operator] | None:
    """(column, key expression or None, operator) of ``term`` when an index kind here serves it."""
    try:
        node: Any = expression(term)
    except ParseFailed:
        return None
    if isinstance(node, ast.A_Expr) and node.kind == A_Expr_Kind.AEXPR_BETWEEN:
        left = _key(node.lexpr)
        return (left[0], left[1], Operator.RANGE) if left is not None and left[1] is None else None
    if not isinstance(node, ast.A_Expr) or node.kind not in (
            A_Expr_Kind.AEXPR_OP, A_Expr_Kind.AEXPR_LIKE, A_Expr_Kind.AEXPR_ILIKE):
        return None
    op = _OPERATORS.get(names(node.name)[-1] if node.name else "")
    left = _key(node.lexpr)
    if op is None or left is None:
        return None
    column, expr = left
    if op in _PATTERN and not _needs_trigrams(node.rexpr, values):
        return None
    if op == Operator.RANGE and expr is not None:
        return None
    return column, expr, op


def _key(node: Any) -> tuple[str, str | None] | None:
    """A column, or an expression over exactly one column (``lower(title)``, ``to_tsvector('english', body)``).

    Prisma's case-insensitive ``contains`` sends ``"title"::text ILIKE $1``: a
    cast of a column to text (or varchar) is the column itself to an index,
    since the planner sees through that binary-compatible relabelling.
    """
    if isinstance(node, ast.TypeCast) and isinstance(node.arg, ast.ColumnRef) and node.typeName is not None \
            and names(node.typeName.names)[-1:] in (("text",), ("varchar",)):
        node = node.arg
    if isinstance(node, ast.ColumnRef):
        fields = names(node.fields)
        return (fields[-1], None) if fields else None
    if isinstance(node, ast.FuncCall):
        refs = {names(n.fields)[-1] for n in walk(node) if isinstance(n, ast.ColumnRef) and names(n.fields)}
        if len(refs) == 1 and not any(isinstance(n, (ast.SubLink, ast.ParamRef)) for n in walk(node)):
            return next(iter(refs)), printed(node)
    return None


def _needs_trigrams(pattern: Any, values: dict[str, str | None]) -> bool:
    """A LIKE pattern a b-tree cannot serve (leading wildcard) that holds a trigram; unknown: the planner says."""
    text: str | None
    if isinstance(pattern, ast.A_Const) and isinstance(pattern.val, ast.String):
        text = pattern.val.sval
    elif isinstance(pattern, ast.ParamRef):
        text = values.get(f"${pattern.number}")
        if f"${pattern.number}" not in values:
            return True          # planned generic: the planner's default selectivity decides
    else:
        return False
    if text is None or not text.startswith(("%", "_")):
        return False
    return any(len(run) >= 3 for run in _literal_runs(text))


def _literal_runs(pattern: str) -> list[str]:
    """The pattern's stretches without wildcards (a backslash escapes the next character)."""
    runs, current, escaped = [], "", False
    for ch in pattern:
        if escaped:
            current, escaped = current + ch, False
        elif ch == "\\":
            escaped = True
        elif ch in "%_":
            runs.append(current)
            current = ""
        else:
            current += ch
    return [*runs, current]


def _candidate(catalog: Catalog, term: _Term, trigram_schema: str | None) -> KindCandidate | None:
    info = catalog.table_columns(term.table).get(term.column)
    if info is None:
        return None
    if term.operator == Operator.RANGE:
        return _brin(catalog, term, info)
    if term.operator in _TRIGRAM:
        if trigram_schema is None or (term.expression is None and info.category != "S"):
            return None
        return KindCandidate(term.table, IndexKey(term.column, expression=term.expression,
                                                  opclass=f"{trigram_schema}.gin_trgm_ops"),
                             IndexMethod.GIN, TRIGRAM)
    if term.operator == Operator.MATCHES:
        if (term.expression is None and info.type != "tsvector") or _run_time_config(term.expression):
            return None
        return KindCandidate(term.table, IndexKey(term.column, expression=term.expression), IndexMethod.GIN)
    if term.expression is not None:
        return None
    if info.type == "jsonb" and term.operator in (Operator.CONTAINS, Operator.EXISTS, Operator.EXISTS_ANY,
                                                  Operator.EXISTS_ALL):
        return KindCandidate(term.table, IndexKey(term.column), IndexMethod.GIN)
    if info.category == "A" and term.operator in (Operator.CONTAINS, Operator.CONTAINED, Operator.OVERLAPS):
        return KindCandidate(term.table, IndexKey(term.column), IndexMethod.GIN)
    return None


def _run_time_config(expr: str | None) -> bool:
    """``to_tsvector(body)``: one argument, the configuration read from default_text_search_config at run time."""
    if expr is None:
        return False
    try:
        node = expression(expr)
    except ParseFailed:
        return False
    return isinstance(node, ast.FuncCall) and names(node.funcname)[-1:] == ("to_tsvector",) \
        and len(node.args or ()) == 1


def run_time_config(catalog: Catalog, statements: list[Planned], default: str | None,
                    found_terms: list[list[_Term]] | None = None) -> list[str]:
    """A hint per ``to_tsvector(x) @@ …`` filter: not IMMUTABLE (it reads default_text_search_config), so no
    index can hold it; the application must name the configuration, and an index on that expression follows.
    ``found_terms``: ``terms`` of the statements, when already known."""
    out: list[str] = []
    each = found_terms if found_terms is not None else terms(catalog, statements)
    for st, mine in zip(statements, each, strict=True):
        for term in mine:
            if term.operator == Operator.MATCHES and _run_time_config(term.expression) and len(out) < 5:
                out.append(f"{term.text} (queryid {st.queryid}): to_tsvector with one argument reads "
                           f"default_text_search_config at run time ({default or 'unknown'} for pgtune's session; "
                           "a role or database setting may differ), so it is not IMMUTABLE and no index can hold it: "
                           "write the configuration in the query (to_tsvector('english', …)) and pgtune can propose "
                           "a GIN on that expression")
    return out


def _brin_table(table: Table) -> bool:
    """A large table that is appended to: one a BRIN could serve."""
    return table.reltuples >= BRIN_MIN_ROWS and table.writes > 0 and table.deletes <= table.writes // 10


def _brin(catalog: Catalog, term: _Term, info: ColumnInfo) -> KindCandidate | None:
    """A range filter on a column stored in its order, on a large table that is appended to."""
    table = catalog.tables.get(term.table)
    if table is None or info.correlation is None or abs(info.correlation) < CORRELATED:
        return None
    if not _brin_table(table):
        return None
    return KindCandidate(term.table, IndexKey(term.column), IndexMethod.BRIN,
                         evidence=f"{term.column} follows the table's physical order (pg_stats.correlation "
                                  f"{info.correlation:+.2f}) and the table is appended to ({table.writes:,} "
                                  f"writes, {table.deletes:,} deletes)")

