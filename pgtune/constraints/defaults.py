"""What a column's DEFAULT writes when the application leaves the column out, read without running it.

The expression (``pg_get_expr`` of pg_attrdef, in ``ColumnInfo.default``) is
parsed with pglast and never sent to the server: a constant (``'-1'::integer``,
``''::text``, ``'PENDING'::"Status"``, ``false``), a clock (``now()``,
``CURRENT_TIMESTAMP``), a generator that never yields NULL (``nextval(…)``,
``gen_random_uuid()``), NULL, or something pgtune cannot tell (a user function,
an expression): a rule a default might break is then not proposed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from pglast import ast, parse_sql
from pglast.parser import ParseError


class DefaultKind(StrEnum):
    NONE = "none"              # no DEFAULT: an insert that leaves the column out writes NULL
    NULL = "null"              # DEFAULT NULL
    CONSTANT = "constant"      # a literal, perhaps cast: ``value`` holds its text
    CLOCK = "clock"            # the transaction's time (now(), CURRENT_TIMESTAMP…): never NULL
    GENERATED = "generated"    # a sequence or a random id: never NULL, its value unknown
    UNKNOWN = "unknown"        # an expression or a user function: what it writes is not known


# pg_catalog functions whose result is never NULL (for a DEFAULT, called without arguments that could be NULL).
CLOCKS = frozenset({"now", "clock_timestamp", "statement_timestamp", "transaction_timestamp", "timeofday"})
GENERATORS = frozenset({"nextval", "gen_random_uuid", "uuid_generate_v4", "uuid_generate_v1", "uuid_generate_v1mc",
                        "uuidv4", "uuidv7", "random"})


@dataclass(frozen=True)
class Default:
    kind: DefaultKind
    value: str | None = None       # CONSTANT: the literal as text ('-1', '', 'PENDING', 'false')
    expression: str | None = None  # the DEFAULT as the server prints it

    @property
    def may_be_null(self) -> bool:
        """Can an insert that leaves the column out write NULL (or is that unknown)?"""
        return self.kind in (DefaultKind.NONE, DefaultKind.NULL, DefaultKind.UNKNOWN)

    def number(self) -> Decimal | None:
        """The constant as a number, None when it is not one."""
        if self.kind != DefaultKind.CONSTANT or self.value is None:
            return None
        try:
            number = Decimal(self.value)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None      # NaN, Infinity: not a number a rule can compare


NO_DEFAULT = Default(DefaultKind.NONE)


def read(expression: str | None) -> Default:
    """Classify a DEFAULT expression's text (None: the column has none)."""
    if expression is None:
        return NO_DEFAULT
    try:
        stmts = parse_sql(f"SELECT {expression}")
    except ParseError:
        return Default(DefaultKind.UNKNOWN, expression=expression)
    stmt = stmts[0].stmt if len(stmts) == 1 else None
    if not isinstance(stmt, ast.SelectStmt) or not stmt.targetList or len(stmt.targetList) != 1 or stmt.fromClause:
        return Default(DefaultKind.UNKNOWN, expression=expression)
    return replace(_classify(stmt.targetList[0].val), expression=expression)


def _classify(node: ast.Node | None) -> Default:
    while isinstance(node, ast.TypeCast):        # '-1'::integer, 'PENDING'::"Status": the literal decides
        node = node.arg
    if isinstance(node, ast.A_Const):
        if node.isnull:
            return Default(DefaultKind.NULL)
        text = _literal(node.val)
        return Default(DefaultKind.CONSTANT, text) if text is not None else Default(DefaultKind.UNKNOWN)
    if isinstance(node, ast.SQLValueFunction):   # CURRENT_TIMESTAMP, CURRENT_DATE, LOCALTIMESTAMP(3)…
        return Default(DefaultKind.CLOCK)
    if isinstance(node, ast.A_Expr) and node.lexpr is None and _op(node) == "-" and isinstance(node.rexpr, ast.A_Const):
        inner = _classify(node.rexpr)
        if inner.number() is not None:
            return Default(DefaultKind.CONSTANT, str(-(inner.number() or 0)))
    if isinstance(node, ast.FuncCall):
        names = [str(n.sval) for n in node.funcname or () if isinstance(n, ast.String)]
        if len(names) == 1 or (len(names) == 2 and names[0] == "pg_catalog"):
            if names[-1] in CLOCKS and not node.args:
                return Default(DefaultKind.CLOCK)
            if names[-1] in GENERATORS:
                return Default(DefaultKind.GENERATED)
    return Default(DefaultKind.UNKNOWN)


def _op(node: ast.A_Expr) -> str:
    return "".join(str(n.sval) for n in node.name if isinstance(n, ast.String)) if node.name else ""


def _literal(val: ast.Node | None) -> str | None:
    if isinstance(val, ast.Integer):
        return str(val.ival)
    if isinstance(val, ast.Float):
        return str(val.fval)
    if isinstance(val, ast.String):
        return str(val.sval)
    if isinstance(val, ast.Boolean):
        return "true" if val.boolval else "false"
    if isinstance(val, ast.BitString):
        return str(val.bsval)
    return None
