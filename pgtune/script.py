"""Reading a migration script: its statements and its units.

pglast's parser splits the text, so a statement boundary is where the server
would see one; a file that does not parse is refused whole, before anything
runs. A unit is one statement, or one ``BEGIN … COMMIT`` block run as a
single transaction. What a unit touches is not read from its text: the
manifest's typed steps say it (plan.steps), and load checks that every unit
is its step's SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import pglast
from pglast import ast
from pglast.enums import TransactionStmtKind

from .errors import MigrationError


@dataclass(frozen=True)
class Unit:
    statements: tuple[str, ...]
    block: bool                       # BEGIN … COMMIT: one transaction

    @property
    def text(self) -> str:
        return ";\n".join(self.statements)


def split(text: str, source: str = "script") -> list[str]:
    """The statements of a script, as the server's parser sees them."""
    try:
        return [s.strip() for s in pglast.split(text) if s.strip()]
    except pglast.parser.ParseError as exc:
        raise MigrationError(f"{source} is not valid SQL ({exc}): refusing to run any of it") from None


def units(stmts: list[str]) -> list[Unit]:
    """Group a script's statements: BEGIN … COMMIT blocks become one unit each."""
    out: list[Unit] = []
    block: list[str] | None = None
    for st in stmts:
        node = pglast.parse_sql(st)[0].stmt
        if isinstance(node, ast.TransactionStmt) and node.kind in (TransactionStmtKind.TRANS_STMT_BEGIN,
                                                                  TransactionStmtKind.TRANS_STMT_START):
            block = []
        elif isinstance(node, ast.TransactionStmt) and node.kind == TransactionStmtKind.TRANS_STMT_COMMIT:
            if block:
                out.append(Unit(tuple(block), True))
            block = None
        elif block is not None:
            block.append(st)
        else:
            out.append(Unit((st,), False))
    if block:
        out.append(Unit(tuple(block), True))
    return out

