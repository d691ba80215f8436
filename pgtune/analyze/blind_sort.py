"""Sort-only candidates for a LIMITed statement whose filter the planner cannot estimate (p27).

``WHERE "data" #>> ARRAY[$3] = $1 ORDER BY "createdAt" DESC LIMIT $2`` (an audit log searched by a JSON key
the application passes as a parameter, as Prisma's JSON path filters do): no index keys on a path a ``$n``
names, and PostgreSQL keeps no statistics of a JSON path, so it takes the filter to keep 0.5% of the rows
whatever the values. An index on ``("createdAt" DESC)`` alone then looks ideal: the scan is expected to stop
after LIMIT / 0.5% rows. On a Documenso-shaped audit log (1.5M rows, 15 per e-mail) it read the whole index
instead: 1,572-2,603 ms against 706 ms for the sequential scan it replaced, where suggest said "planner cost
218.8x lower". The gain of such an index is the planner's guess alone; it is not proposed for it.

The same holds for an equality whose value each call sends: ``WHERE "userUid" = $1 ORDER BY "executedOn" DESC
LIMIT $2`` (Hoppscotch's history list, through Prisma), the LIMIT trap. The backward scan of ``("executedOn")``
stops early only if the user's rows are spread evenly through time, which no statistics say: on a 29,600-row
history (l38) it was the plan for a user with 2,000 rows, all from the first year, priced 11.4, and read 678
buffers (2.1 ms) where the composite reads 3 (0.03 ms). No value scenario prices that: the planner gives a value it
knows to be rare another plan, and every value outside the most common ones the average's. The composite (the
equality first, then the sort) serves every value; the sort-only index is not proposed for such statements (one
that also serves a statement without the filter is kept).

A row security policy's ``"teamId" = current_setting('app.team_id')::int`` pins every call as ``= $1`` does, though
the statement's text has none (l39, Documenso-shaped envelopes under a tenant policy): a statement without ``$n`` is
planned once, for the first call's tenant, and the plan is kept. Cached for the big team, the backward scan of
``("createdAt")`` read 525 buffers (3.8 ms) for a team of 8 old envelopes; ``("teamId", "createdAt" DESC)`` 10 (0.02).
An equality on a table the sorted one is inner joined to (or reads through ``IN``/``EXISTS``) pins it too: there the
planner walks ``("createdAt")`` for every user, custom plans too, and a small team's member read 528 buffers where
the sequential scan without the index reads 241 and ``("teamId")`` 13; the big team's member pays (255 against 6).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from pglast import ast
from pglast.enums import BoolExprType, JoinType, SubLinkType

from ..sqltext import ParseFailed, parse
from .candidates import Candidate
from .params import ParamKind, ParamUse
from .shape import EQ, FUNC, GROUP, JOIN, NULL, ORDER, RANGE, Shape

_UNESTIMATED = (ParamKind.JSON_KEY, ParamKind.JSON_VALUE)
_SERVED = (EQ, RANGE, NULL, JOIN, GROUP, FUNC)      # what a key does beyond the sort


class Read(Protocol):
    """A statement as blind_sort reads it (analysis.Analysis)."""

    @property
    def shape(self) -> Shape: ...
    @property
    def query(self) -> str: ...


def seen(cands: list[Candidate], reads: Sequence[Read]) -> list[Candidate]:
    """``cands`` without those every statement of which would use them only for a sort the guess stops early."""
    return [c for c in cands if not _blind(c, reads)]


def _blind(cand: Candidate, reads: Sequence[Read]) -> bool:
    if cand.foreign_key is not None or cand.where is not None or not cand.statements:
        return False
    return all(pos < len(reads) and (_blind_for(cand, reads[pos].shape) or _joined_pin(cand, reads[pos]))
               for pos in cand.statements)


def _blind_for(cand: Candidate, shape: Shape) -> bool:
    if not shape.limited_blocks or not _sorts_only(cand, shape):
        return False        # a key that filters, joins or groups: the index does more than sort
    return _policy_pinned(cand, shape) or any(
        p.table == cand.table and (p.kind in _UNESTIMATED or _sent_equality(p, shape)) for p in shape.params.values())


def _policy_pinned(cand: Candidate, shape: Shape) -> bool:
    """Does a row security policy pin ``cand``'s table by an equality with a value of the session (``"teamId" =
    current_setting('app.team_id')::int``, not a constant): every call is one tenant's, as ``= $1`` is (l39)."""
    return any(u.policy and u.role == EQ and u.table == cand.table and u.value is None for u in shape.uses)


def _sent_equality(p: ParamUse, shape: Shape) -> bool:
    """Is ``p`` an equality on a column the statement filters by, with the value each call sends (not one
    pg_qualstats saw it always run with: analysis.with_constants makes that the use's constant)?"""
    return p.kind == ParamKind.COLUMN and p.op == "=" and any(
        u.role == EQ and u.table == p.table and u.column == p.column and u.value is None for u in shape.uses)


def _joined_pin(cand: Candidate, read: Read) -> bool:
    """Does a sent equality on a table ``cand``'s table is joined to (inner, or through ``IN``/``EXISTS``) pin the
    rows it sorts (l39)? ``JOIN "Membership" m ON m."teamId" = e."teamId" WHERE m."userId" = $1``: the planner
    estimates every user's join alike, so each walks ``("createdAt")`` as far as its teams' rows are old."""
    shape = read.shape
    if not shape.limited_blocks or not _sorts_only(cand, shape) or not any(
            u.table == cand.table and u.role == JOIN for u in shape.uses):
        return False
    sent = {(p.table, p.column) for p in shape.params.values() if p.kind == ParamKind.COLUMN and p.op == "="}
    aliases = {u.alias for u in shape.uses if u.role == EQ and u.table != cand.table and u.value is None
               and ((u.table, u.column) in sent or u.policy)}     # a policy's session setting pins as $n does
    # Parsed only here, for the few statements that get this far: a LEFT JOIN's equality, or a NOT EXISTS's, pins
    # nothing (a feed with the viewer's role beside each row still stops after LIMIT rows).
    return bool(aliases) and bool(aliases & _pinning(read.query))


def _sorts_only(cand: Candidate, shape: Shape) -> bool:
    uses = [u for u in shape.uses if u.table == cand.table]
    sorted_by = {u.column for u in uses if u.role == ORDER}
    other = {u.column for u in uses if u.role in _SERVED}
    return all(k.column is not None and k.column in sorted_by and k.column not in other for k in cand.keys)


def _pinning(query: str) -> set[str]:
    """The aliases of the top SELECT's tables whose filters filter its rows: inner joined, or in an ``IN`` or
    ``EXISTS`` AND-ed to its WHERE (the planner's semi-joins)."""
    try:
        stmts = parse(query)
    except ParseFailed:
        return set()
    out: set[str] = set()
    if stmts and isinstance(stmts[0].stmt, ast.SelectStmt):
        _select(stmts[0].stmt, out)
    return out


def _select(node: ast.SelectStmt, out: set[str]) -> None:
    for item in node.fromClause or ():
        _from(item, out)
    _where(node.whereClause, out)


def _from(item: Any, out: set[str]) -> None:
    if isinstance(item, ast.RangeVar):
        out.add((item.alias.aliasname if item.alias else item.relname) or "")
    elif isinstance(item, ast.JoinExpr):
        if item.jointype in (JoinType.JOIN_INNER, JoinType.JOIN_LEFT):
            _from(item.larg, out)
        if item.jointype in (JoinType.JOIN_INNER, JoinType.JOIN_RIGHT):
            _from(item.rarg, out)


def _where(node: Any, out: set[str]) -> None:
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
        for arg in node.args or ():
            _where(arg, out)
    elif isinstance(node, ast.SubLink) and isinstance(node.subselect, ast.SelectStmt) \
            and node.subLinkType in (SubLinkType.EXISTS_SUBLINK, SubLinkType.ANY_SUBLINK):
        _select(node.subselect, out)
