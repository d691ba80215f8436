"""Heuristic mode (no HypoPG): the candidates worth proposing when no plan can be asked which ones pay.

With HypoPG the planner decides which candidate a statement would use; without
it pgtune proposes what the statements' shapes justify, busiest first. Each
proposal is an index every write then maintains, so the list a DBA reads must
not hold two where one does the work: a covering twin, ``("userId") INCLUDE
("deletedAt", id)``, beside ``("userId", status, "createdAt")`` leading with the
same key. Only a plan could show the index-only scan worth a second index on
that key; without one the wider index serves the lookup, and the twin's INCLUDE
is left out (orm_app: four indexes leading "userId" on Document became three).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .candidates import Candidate, merge, serves


def ranked(merged: list[Candidate], calls: Sequence[int]) -> list[Candidate]:
    """``merged`` less the covering twins another candidate's keys serve, busiest first (``calls``: by the
    analyzed statement's position)."""
    def bare(c: Candidate) -> Candidate:
        plain = replace(c, include=())
        hosted = c.include and any(o is not c and o.table == c.table and serves(o.keys, o.where, o.include, plain)
                                   for o in merged)
        return plain if hosted else c

    folded = merge([bare(c) for c in merged])
    return sorted(folded, key=lambda c: -sum(calls[p] for p in c.statements))
