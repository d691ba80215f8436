"""The DDL pgtune proposes, built as pglast AST nodes and printed by pglast.

Nothing here pastes an identifier into a string: pglast's printer quotes exactly when needed ("userId", "order",
"a""b"), so Prisma-style names and keywords come out right by construction.
"""

from __future__ import annotations

import copy
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache

from pglast import ast, parse_sql
from pglast.enums import A_Expr_Kind, SortByDir, SortByNulls
from pglast.stream import RawStream, maybe_double_quote_name
from pglast.visitors import Visitor

from . import sqltext

MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1
_UNPRINTABLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


class IndexMethod(StrEnum):
    """The index access methods pgtune proposes (pg_am.amname)."""

    BTREE = "btree"
    GIN = "gin"        # inverted: trigrams of text, jsonb keys and paths, array elements, tsvector lexemes
    BRIN = "brin"      # a summary per block range: tiny, for columns that follow the table's physical order
    HASH = "hash"      # equality only; an entry holds the value's 4-byte hash: for values too wide for a b-tree


# An operator class's part of an index name: "title_trgm", "metadata_jsonb_path".
_OPCLASS_LABELS = {"gin_trgm_ops": "trgm", "jsonb_path_ops": "jsonb_path", "jsonb_ops": "jsonb"}


@dataclass(frozen=True, slots=True)
class _Key:
    column: str
    descending: bool = False
    expression: str | None = None
    opclass: str | None = None


class IndexKey(_Key):
    """One index key: a column, or an expression over one (``lower(email)``), with its operator class.

    ``opclass`` is None for the method's default operator class of the key's type; else its name as written in
    CREATE INDEX (``gin_trgm_ops``, possibly schema-qualified: ``public.gin_trgm_ops``).
    """

    # The hash, once (3% of suggest's CPU at 5,000 statements), in a slot: no field, no __dict__ a key (62,000).
    __slots__ = ("_hash",)
    _hash: int

    def __hash__(self) -> int:
        if not hasattr(self, "_hash"):
            object.__setattr__(self, "_hash", hash((self.column, self.descending, self.expression, self.opclass)))
        return self._hash

    @property
    def ident(self) -> str:
        """What makes two keys the same key: the expression text, else the column (and the operator class)."""
        base = self.expression if self.expression is not None else self.column
        return base if self.opclass is None else f"{base} {self.opclass_name}"

    @property
    def opclass_name(self) -> str | None:
        """The operator class without its schema (``gin_trgm_ops``)."""
        return self.opclass.rsplit(".", 1)[-1] if self.opclass is not None else None

    @property
    def label(self) -> str:
        """The key's part of an index name: ``createdAt_desc``, ``lower_email``, ``title_trgm``."""
        base = self.column if self.expression is None else re.sub(r"\W+", "_", self.expression).strip("_")
        if self.opclass_name is not None:
            base += "_" + _OPCLASS_LABELS.get(self.opclass_name, self.opclass_name)
        return base + ("_desc" if self.descending else "")


def _print(node: ast.Node) -> str:
    return str(RawStream()(node))


def _plain_btree(schema: str, table: str, name: str, keys: tuple[IndexKey, ...], concurrently: bool,
                 include: tuple[str, ...]) -> str:
    """A b-tree of plain columns without a predicate, written as the printer writes it, every name quoted by
    the printer's own function: building and printing its tree was 8% of suggest's CPU at 4,500 proposals."""
    cols = ", ".join(maybe_double_quote_name(k.column) + (" DESC" if k.descending else "") for k in keys)
    rest = (f"{maybe_double_quote_name(name)} ON {maybe_double_quote_name(schema)}.{maybe_double_quote_name(table)} "
            f"({cols})" + (f" INCLUDE ({', '.join(map(maybe_double_quote_name, include))})" if include else ""))
    if not concurrently:
        return f"CREATE INDEX {rest}"
    text = f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {rest}"
    if len(_PLAIN_HYPOTHETICAL) >= 100_000:
        _PLAIN_HYPOTHETICAL.clear()
    _PLAIN_HYPOTHETICAL[text] = f"CREATE INDEX {rest}"      # hypothetical(text), known without parsing it
    return text


# create_index's plain b-trees (built without the printer) -> their text as HypoPG takes it (``hypothetical``).
_PLAIN_HYPOTHETICAL: dict[str, str] = {}


def _range_var(schema: str, table: str) -> ast.RangeVar:
    return ast.RangeVar(schemaname=schema, relname=table, inh=True, relpersistence="p")


def identifier(parts: list[str], keep_last: bool = False) -> str:
    """Deterministic identifier from ``parts``, at most 63 bytes (a hash keeps cut names apart).

    Control and line-separator characters of a column name become ``_``: a
    name pgtune makes up is one a DBA can type and read on one line.
    ``keep_last``: a cut name still ends in the last part (an index's
    ``_pgtune_idx``, by which a Prisma-migrated database's indexes are known
    as pgtune's once deployed: u15), the hash before it.
    """
    full = _printable("_".join(parts))
    if len(full.encode()) <= MAX_IDENTIFIER_BYTES:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    last = _printable(parts[-1]) if keep_last and parts else ""
    tail = f"_{digest}_{last}" if 0 < len(last.encode()) <= MAX_IDENTIFIER_BYTES // 3 else f"_{digest}"
    body = _printable("_".join(parts[:-1])) if tail != f"_{digest}" else full
    head = body.encode()[: MAX_IDENTIFIER_BYTES - len(tail.encode())].decode("utf-8", "ignore")
    return f"{head}{tail}"


def _printable(text: str) -> str:
    return "".join("_" if unicodedata.category(ch) in _UNPRINTABLE else ch for ch in text)


def literal(value: str) -> str:
    """A string constant as pglast prints it: ``'it''s'``."""
    return _print(ast.A_Const(isnull=False, val=ast.String(sval=value)))


def comment(text: str) -> str:
    """``text`` made safe for one ``-- …`` comment line.

    A newline or carriage return would end the comment and turn the rest into
    SQL; every control, format or line-separator character is written as an
    escape instead (``\\n``, ``\\x01``, ``\\u2028``), so a name read from the
    database can be shown but never run.
    """
    out = []
    for ch in text:
        if unicodedata.category(ch) in _UNPRINTABLE:
            code = ord(ch)
            out.append({10: "\\n", 13: "\\r", 9: "\\t"}.get(code)
                       or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"))
        else:
            out.append(ch)
    return "".join(out)


def name(value: str) -> str:
    """An identifier quoted by pglast exactly when needed."""
    return str(maybe_double_quote_name(value))


def setting_list(value: str) -> list[str]:
    """A list setting's names (shared_preload_libraries, search_path) as PostgreSQL splits its value.

    At each comma outside double quotes; a quoted name is kept whole, commas
    included, with ``""`` in it read as one quote (SplitDirectoriesString).
    Split at every comma, ``"my,lib"`` would become two libraries that do not
    exist, and a restart with them fails.
    """
    found = re.finditer(r'\s*(?:"((?:[^"]|"")*)"|([^,]*?))\s*(?:,|$)', value)
    return [x for m in found if (x := m.group(2) if m.group(1) is None else m.group(1).replace('""', '"'))]


def list_setting(names: Sequence[str]) -> str:
    """``names`` as PostgreSQL shows a list it wrote (ALTER SYSTEM): a name that is not a plain word quoted."""
    return ", ".join(x if re.fullmatch(r"[a-z_][a-z0-9_$]*", x) else '"' + x.replace('"', '""') + '"'
                     for x in names)


# PostgreSQL keeps 63 bytes of a name; Prisma cuts its default names so that the suffix survives.
_MAX_NAME = 63


def prisma_name(table: str, columns: Sequence[str], suffix: str) -> str:
    """The name Prisma gives a key or index declared without ``map:`` (its ConstraintNames rules).

    ``table_pkey`` (no columns), ``table_columns_key`` (unique), ``table_columns_idx``. Past 63
    bytes the part before the suffix is cut, never the suffix, nor a character in two.
    """
    head = "_".join([table, *columns]).encode()[:_MAX_NAME - len(suffix) - 1].decode("utf-8", "ignore")
    return f"{head}_{suffix}"


def index_name(table: str, keys: tuple[IndexKey, ...], suffix: str = "idx", *,
               where_label: str | None = None, include: tuple[str, ...] = ()) -> str:
    """Deterministic name ``<table>_<col>_<col>_idx``, at most 63 bytes.

    Longer names keep a readable head, then a short hash of the full name (two
    long candidates never collide after truncation), then the suffix.
    """
    parts = [table, *(k.label for k in keys)]
    if include:
        parts.append("incl_" + "_".join(include))
    if where_label:
        parts.append("where_" + where_label)
    parts.append(suffix)
    return identifier(parts, keep_last=True)


def _expr(text: str) -> ast.Node:
    """Re-parse an expression pgtune printed with pglast; refuse anything but one expression."""
    node: ast.Node = sqltext.expression(text)
    return node


def _opclass(name: str | None) -> tuple[ast.String, ...] | None:
    """An operator class name as the parser gives it: schema-qualified or not."""
    if name is None:
        return None
    return tuple(ast.String(sval=part) for part in name.split(".", 1))


@lru_cache(maxsize=100_000)
def create_index(schema: str, table: str, name: str, keys: tuple[IndexKey, ...], *,
                 concurrently: bool = True, where: str | None = None, include: tuple[str, ...] = (),
                 method: IndexMethod = IndexMethod.BTREE) -> str:
    """``CREATE INDEX CONCURRENTLY IF NOT EXISTS name ON schema.table [USING method] (keys) [INCLUDE (...)]
    [WHERE ...]``; a key's operator class follows it (``title gin_trgm_ops``)."""
    if method == IndexMethod.BTREE and where is None and schema and table and name and all(
            k.column and k.expression is None and k.opclass is None for k in keys):
        return _plain_btree(schema, table, name, keys, concurrently, include)
    params = [
        ast.IndexElem(name=None if k.expression else k.column,
                      expr=_expr(k.expression) if k.expression else None, opclass=_opclass(k.opclass),
                      ordering=SortByDir.SORTBY_DESC if k.descending else SortByDir.SORTBY_DEFAULT,
                      nulls_ordering=SortByNulls.SORTBY_NULLS_DEFAULT)
        for k in keys
    ]
    including = [ast.IndexElem(name=c, ordering=SortByDir.SORTBY_DEFAULT,
                               nulls_ordering=SortByNulls.SORTBY_NULLS_DEFAULT) for c in include]
    stmt = ast.IndexStmt(idxname=name, relation=_range_var(schema, table), accessMethod=str(method),
                         indexParams=params, indexIncludingParams=including or None,
                         whereClause=_expr(where) if where is not None else None,
                         concurrent=concurrently, if_not_exists=concurrently)
    return _print(stmt)


def create_extension(name: str, schema: str | None = None) -> str:
    """``CREATE EXTENSION IF NOT EXISTS name [WITH SCHEMA schema]``: nothing happens where it is installed."""
    options = (ast.DefElem(defname="schema", arg=ast.String(sval=schema)),) if schema is not None else None
    return _print(ast.CreateExtensionStmt(extname=name, if_not_exists=True, options=options))


def drop_extension(name: str) -> str:
    """``DROP EXTENSION IF EXISTS name`` (RESTRICT: refused while anything still uses it)."""
    return f"DROP EXTENSION IF EXISTS {maybe_double_quote_name(name)}"


def create_statistics(schema: str, name: str, kinds: Sequence[str], table_schema: str, table: str,
                      columns: Sequence[str]) -> str:
    """``CREATE STATISTICS IF NOT EXISTS schema.name (kinds) ON columns FROM table``."""
    stmt = ast.CreateStatsStmt(defnames=(ast.String(sval=schema), ast.String(sval=name)),
                               stat_types=tuple(ast.String(sval=k) for k in kinds),
                               exprs=tuple(ast.StatsElem(name=c) for c in columns),
                               relations=(_range_var(table_schema, table),), if_not_exists=True)
    return _print(stmt)


def drop_statistics(schema: str, name: str) -> str:
    return f"DROP STATISTICS IF EXISTS {qualified(schema, name)}"


def equals(column: str, value: str) -> str:
    """The predicate ``column = value``; the name is quoted by pglast, the value is a printed constant."""
    return f"{maybe_double_quote_name(column)} = {_print(_expr(value))}"


@cache
def qualified(schema: str, name: str) -> str:
    """``schema.name`` quoted as pglast quotes it: only where needed (``public."order"``)."""
    return f"{maybe_double_quote_name(schema)}.{maybe_double_quote_name(name)}"


def _own_copy(stmt: str) -> ast.Node:
    """The parsed statement as a tree of our own: sqltext caches its trees, and these callers change theirs."""
    return copy.deepcopy(sqltext.parse_one(stmt))


def recreate_index(indexdef: str, tablespace: str | None = None, *, partitioned: bool = False) -> str:
    """``pg_get_indexdef`` made ``CREATE INDEX CONCURRENTLY IF NOT EXISTS``, the rest exactly as it was.

    Name, method, keys, opclasses, collations, INCLUDE, storage parameters and
    predicate come from the server's own text; pglast re-prints it with the two
    flags set (and the tablespace, which pg_get_indexdef leaves out), so
    nothing is pasted. A ``partitioned`` index (``ON ONLY``, as
    pg_get_indexdef prints it) is made ``IF NOT EXISTS`` only: CONCURRENTLY is
    refused there, and ON ONLY builds nothing.
    """
    node = _own_copy(indexdef)
    if not isinstance(node, ast.IndexStmt):
        raise ValueError(f"not an index definition: {indexdef[:60]}")
    node.concurrent = not partitioned
    node.if_not_exists = True
    if tablespace:
        node.tableSpace = tablespace
    return _print(node)


def index_on(stmt: str, schema: str, table: str, name: str, *, only: bool = False) -> str:
    """The CREATE INDEX ``stmt`` built on another table under another name, same keys, method and predicate.

    ``only``: ``CREATE INDEX IF NOT EXISTS … ON ONLY`` a partitioned table
    (no CONCURRENTLY: refused there; it builds nothing, the partitions' own
    indexes are attached to it); else ``CREATE INDEX CONCURRENTLY IF NOT EXISTS``.
    """
    node = _own_copy(stmt)
    if not isinstance(node, ast.IndexStmt):
        raise ValueError(f"not an index definition: {stmt[:60]}")
    node.relation = ast.RangeVar(schemaname=schema, relname=table, inh=not only, relpersistence="p")
    node.idxname = name
    node.concurrent = not only
    node.if_not_exists = True
    return _print(node)


def attach_index(parent_schema: str, parent: str, schema: str, index: str) -> str:
    """``ALTER INDEX parent ATTACH PARTITION index``: a no-op when it is attached already."""
    return f"ALTER INDEX {qualified(parent_schema, parent)} ATTACH PARTITION {qualified(schema, index)}"


def comment_on_index(schema: str, index: str, text: str) -> str:
    return f"COMMENT ON INDEX {qualified(schema, index)} IS {literal(text)}"


def index_statistics(schema: str, index: str, column: int, target: int) -> str:
    """The statistics target of an index's (expression) column, by its number as pg_dump sets it."""
    return f"ALTER INDEX {qualified(schema, index)} ALTER COLUMN {int(column)} SET STATISTICS {int(target)}"


def cluster_on(schema: str, table: str, index: str) -> str:
    return f"ALTER TABLE {qualified(schema, table)} CLUSTER ON {name(index)}"


def drop_index(schema: str, name: str, *, concurrently: bool = True) -> str:
    return f"DROP INDEX {'CONCURRENTLY ' if concurrently else ''}IF EXISTS {qualified(schema, name)}"


def reindex(schema: str, name: str) -> str:
    """Builds a fresh copy beside the index and swaps them: no write is blocked."""
    return f"REINDEX INDEX CONCURRENTLY {qualified(schema, name)}"


def analyze(schema: str, table: str) -> str:
    return f"ANALYZE {qualified(schema, table)}"


def add_check(schema: str, table: str, constraint: str, check: str) -> str:
    """``ALTER TABLE … ADD CONSTRAINT … CHECK (…) NOT VALID``: a brief lock, no scan."""
    return (f"ALTER TABLE {qualified(schema, table)} ADD CONSTRAINT {name(constraint)} "
            f"CHECK ({_print(_expr(check))}) NOT VALID")


def check_on(add: str, schema: str, table: str) -> str:
    """The ADD CONSTRAINT ``add`` (add_check's) made on another table: same name, same rule."""
    node = _own_copy(add)
    if not isinstance(node, ast.AlterTableStmt):
        raise ValueError(f"not an ALTER TABLE: {add[:60]}")
    node.relation = _range_var(schema, table)
    return _print(node)


def validate_constraint(schema: str, table: str, constraint: str) -> str:
    """Scans under SHARE UPDATE EXCLUSIVE: reads and writes go on."""
    return f"ALTER TABLE {qualified(schema, table)} VALIDATE CONSTRAINT {name(constraint)}"


def drop_constraint(schema: str, table: str, constraint: str) -> str:
    return f"ALTER TABLE {qualified(schema, table)} DROP CONSTRAINT IF EXISTS {name(constraint)}"


def set_not_null(schema: str, table: str, column: str) -> str:
    """With a validated CHECK (col IS NOT NULL) in place the server skips the full scan."""
    return f"ALTER TABLE {qualified(schema, table)} ALTER COLUMN {name(column)} SET NOT NULL"


def drop_not_null(schema: str, table: str, column: str) -> str:
    return f"ALTER TABLE {qualified(schema, table)} ALTER COLUMN {name(column)} DROP NOT NULL"


class _StripCasts(Visitor):
    """``'x'::text`` → ``'x'``: pg_get_indexdef spells out casts pgtune's DDL leaves implicit; it prints ``'1'`` bare
    (``1``, ``true``) and ``IN (…)`` as ``= ANY (ARRAY[…])``, folded too (r20: "different definition")."""

    def visit_TypeCast(self, _ancestors: object, node: ast.TypeCast) -> ast.Node | None:
        if isinstance(node.arg, (ast.A_Const, ast.ColumnRef, ast.A_ArrayExpr)):
            return _folded(node.arg)
        return None

    def visit_A_Const(self, _ancestors: object, node: ast.A_Const) -> ast.Node | None:
        v = node.val
        text = (str(v.ival) if isinstance(v, ast.Integer) else v.fval if isinstance(v, ast.Float) else
                str(v.boolval).lower() if isinstance(v, ast.Boolean) else None)
        return None if text is None else ast.A_Const(isnull=False, val=ast.String(sval=text))

    def visit_A_Expr(self, _ancestors: object, node: ast.A_Expr) -> ast.Node | None:
        if node.kind != A_Expr_Kind.AEXPR_IN or not isinstance(node.rexpr, tuple | list):
            return None
        one = len(node.rexpr) == 1      # the server reads IN ('1') as = '1'
        kind = (A_Expr_Kind.AEXPR_OP if one else A_Expr_Kind.AEXPR_OP_ANY if sqltext.names(node.name) == ("=",)
                else A_Expr_Kind.AEXPR_OP_ALL)
        return _folded(ast.A_Expr(kind=kind, name=node.name, lexpr=node.lexpr,
                                  rexpr=node.rexpr[0] if one else ast.A_ArrayExpr(list(node.rexpr))))


def _folded(node: ast.Node) -> ast.Node:
    out: ast.Node = _StripCasts()(node)     # a visitor of its own: a replaced node's children are not visited
    return out


def _norm(node: ast.Node | None) -> str | None:
    if node is None:
        return None
    return _print(_StripCasts()(node))


def index_signature(stmt: str) -> tuple[object, ...]:
    """What makes two CREATE INDEX statements build the same index (not its name or schema).

    Table, method, uniqueness, each key (column or expression, direction,
    NULLS order, opclass, collation), INCLUDE columns and the predicate, with
    implicit casts and default spellings folded, so that pgtune's DDL and
    ``pg_get_indexdef`` compare equal when, and only when, they build the same.
    """
    node = parse_sql(stmt)[0].stmt
    if not isinstance(node, ast.IndexStmt):
        raise ValueError("not a CREATE INDEX statement")

    def key(p: ast.IndexElem) -> tuple[object, ...]:
        ordering = SortByDir.SORTBY_ASC if p.ordering == SortByDir.SORTBY_DEFAULT else p.ordering
        nulls = p.nulls_ordering
        if nulls == SortByNulls.SORTBY_NULLS_DEFAULT:
            nulls = (SortByNulls.SORTBY_NULLS_FIRST if ordering == SortByDir.SORTBY_DESC
                     else SortByNulls.SORTBY_NULLS_LAST)
        # pg_get_indexdef qualifies an operator class only when it is off the search_path: compare the name alone.
        opclass = tuple(n.sval for n in p.opclass or ())[-1:]
        collation = tuple(n.sval for n in p.collation or ())
        return (p.name, _norm(p.expr), int(ordering or 0), int(nulls or 0), opclass, collation)

    relname = node.relation.relname if node.relation is not None else None
    return (relname, (node.accessMethod or "btree").lower(), bool(node.unique),
            tuple(key(p) for p in node.indexParams or ()),
            tuple(p.name for p in node.indexIncludingParams or ()), _norm(node.whereClause))


def statistics_signature(stmt: str) -> tuple[object, ...]:
    """What makes two CREATE STATISTICS build the same object: table, columns or expressions, and kinds.

    pg_get_statisticsobjdef leaves the kinds out when all of them are built.
    """
    node = parse_sql(stmt)[0].stmt
    if not isinstance(node, ast.CreateStatsStmt):
        raise ValueError("not a CREATE STATISTICS statement")
    kinds = frozenset(k.sval for k in node.stat_types or ()) or frozenset({"ndistinct", "dependencies", "mcv"})
    relation = node.relations[0].relname if node.relations else None
    return (relation, tuple(e.name or _norm(e.expr) for e in node.exprs or ()), kinds)


def same_statistics(planned: str, definition: str) -> bool:
    try:
        return statistics_signature(planned) == statistics_signature(definition)
    except Exception:
        return False


def same_index(planned: str, indexdef: str) -> bool:
    """Does the index ``indexdef`` (pg_get_indexdef) build exactly what ``planned`` would?"""
    try:
        return index_signature(planned) == index_signature(indexdef)
    except Exception:
        return False


def hypothetical(text: str) -> str | None:
    """A b-tree's CREATE INDEX as HypoPG takes it (not CONCURRENTLY, no IF NOT EXISTS; printed by pglast);
    None for anything else: another access method (GIN is costed by a trial build), or not one CREATE INDEX."""
    known = _PLAIN_HYPOTHETICAL.get(text)
    if known is not None:
        return known        # parsing and printing each proposal again was 3% of suggest's CPU at 4,500 of them
    parsed = parse_sql(text)
    stmt = parsed[0].stmt if len(parsed) == 1 else None
    if not isinstance(stmt, ast.IndexStmt) or stmt.accessMethod not in (None, "btree"):
        return None
    stmt.concurrent = False
    stmt.if_not_exists = False
    return str(RawStream()(stmt))
