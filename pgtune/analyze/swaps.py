"""Replace steps: one candidate in place of two or more chosen indexes whose columns it holds.

The greedy adds or widens one index at a time, so two narrow indexes chosen
early stay even where one wider index would serve their statements for fewer
bytes: TPC-H's ``(l_partkey)`` and ``(l_suppkey) WHERE l_receiptdate >
l_commitdate`` (69 MB) against ``(l_suppkey, l_partkey)`` (58 MB), which serves
Q9's join by both keys and Q21's and Q7's by its lead (session 19: 43.1% built
at 243 MB where the two narrow ones gave 43.6% at 254). Added beside them the
wide one saves little, so it was never taken; costed with them gone it saves
bytes and cost. Which chosen indexes it could take the place of is a question
of columns here; the planner's costs decide (analyze.selection).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import replace

from ..capture import TableKey
from .candidates import Candidate
from .exprs import normalize_expression
from .selection_model import Ident, Workload, ident

__all__ = ["Pool", "gone", "takes_over", "together"]


def gone(old: Candidate | None, drops: tuple[Candidate, ...]) -> tuple[Candidate, ...]:
    """The chosen indexes a step drops: the one it widens or replaces, and a replace's others."""
    return (*((old,) if old is not None else ()), *drops)


def takes_over(wide: Candidate, narrow: Candidate) -> bool:
    """Could ``wide`` serve ``narrow``'s statements: it holds every key and INCLUDE column of it, over at least
    its rows (a partial ``wide`` only with the same predicate), and a partial ``narrow`` by its leading key.

    A full index in place of a partial one serves the partial one's statements
    by its lead and the predicate as a filter; by a second key it would read
    the whole index. A full ``narrow``'s columns may be anywhere in ``wide``:
    its statements may use them all (a join on both), and where they do not,
    the planner's cost says so.
    """
    if wide is narrow or wide.table != narrow.table or len(wide.keys) <= len(narrow.keys):
        return False
    if wide.where is not None and (narrow.where is None
                                   or normalize_expression(wide.where) != normalize_expression(narrow.where)):
        return False
    if narrow.where is not None and wide.where is None and wide.keys[0].ident != narrow.keys[0].ident:
        return False
    keys = {k.ident for k in wide.keys}
    return {k.ident for k in narrow.keys} <= keys and set(narrow.include) <= keys | set(wide.include)


def orders(wide: Candidate, chosen: Iterable[Candidate]) -> list[Candidate]:
    """``wide`` and, where its leading keys are equalities (their order free), the same index led by the leading
    key of a chosen partial index among them: that one it could then take the place of too."""
    out = [wide]
    free = wide.keys[:wide.equality]
    for c in chosen:
        lead = c.keys[0].ident if c.keys and c.where is not None and wide.where is None else None
        if lead is None or lead == wide.keys[0].ident or all(k.ident != lead for k in free):
            continue
        first = next(k for k in free if k.ident == lead)
        keys = (first, *(k for k in wide.keys if k is not first))
        if all(o.keys != keys for o in out):
            out.append(replace(wide, keys=keys))     # the same statements, the very set (as widen.wider)
    return out


class Pool:
    """The candidates of two or more keys seen so far, by table and key: what a replace may put in place of
    chosen indexes, found without a pass over every candidate at every step (5,000 statements: 4,500 steps)."""

    def __init__(self, together: Callable[[Candidate], bool]) -> None:
        self.together = together
        self.by_key: dict[tuple[TableKey, str], dict[Ident, Candidate]] = {}
        self.tried: set[tuple[Ident, ...]] = set()

    def add(self, cands: Iterable[Candidate]) -> None:
        for c in cands:
            if len(c.keys) > 1:
                for k in c.keys:
                    self.by_key.setdefault((c.table, k.ident), {}).setdefault(ident(c), c)

    def replacements(self, new: Candidate, chosen: Collection[Candidate],
                     ) -> Iterator[tuple[Candidate, tuple[Candidate, ...]]]:
        """Each candidate not chosen that could take the place of ``new``, just chosen, and one or more other
        ``chosen`` indexes (of its table), with those; each such set once. Sets without ``new`` were offered
        when their last index was chosen. The candidates: those seen so far, and for ``new`` and each other
        chosen index of one plain key, the full index on both keys (``pairs``) where some statement could use
        both (``together``).

        One in place of one is a widening, or an add that replaces (analyze.selection) where the narrow one is
        its prefix; otherwise the wide one gives up the narrow one's lead, rarely what its statements want.
        """
        have = {ident(c) for c in chosen}
        found = list(self.by_key.get((new.table, new.keys[0].ident), {}).values()) if new.keys else []
        for wide in [*(o for f in found for o in orders(f, chosen)), *filter(self.together, pairs(new, chosen))]:
            if ident(wide) in have or not takes_over(wide, new):
                continue
            over = tuple(c for c in chosen if takes_over(wide, c))
            key = (ident(wide), *map(ident, over))
            if len(over) >= 2 and key not in self.tried:
                self.tried.add(key)
                yield wide, over


def pairs(new: Candidate, chosen: Iterable[Candidate]) -> list[Candidate]:
    """The full index on ``new``'s key and another chosen index's, each of one plain key and at most one of them
    partial: led by the partial one's key (it serves its statements by the lead), else in either order."""
    out: list[Candidate] = []
    if len(new.keys) != 1 or new.keys[0].expression is not None or new.include:
        return out
    for c in chosen:
        if (c is new or len(c.keys) != 1 or c.keys[0].expression is not None or c.include
                or c.keys[0].ident == new.keys[0].ident or (c.where is not None and new.where is not None)):
            continue
        firsts = [c] if c.where is not None else [new] if new.where is not None else [new, c]
        for first in firsts:
            second = c if first is new else new
            out.append(Candidate(new.table, (first.keys[0], second.keys[0]), 1,
                                 statements=set(new.statements) | set(c.statements)))
    return out


def together(workload: list[Workload], by_table: dict[TableKey, list[int]]) -> Callable[[Candidate], bool]:
    """Could some statement use every key of a candidate (each among the columns it could use on its table)?"""
    def test(c: Candidate) -> bool:
        cols = {k.ident for k in c.keys}
        return any(cols <= workload[p].keyable.get(c.table, frozenset()) for p in by_table.get(c.table, []))
    return test
