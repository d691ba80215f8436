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

from dataclasses import replace
from typing import Any

import psycopg

from ..capture import Catalog
from . import served_now
from .analysis import Analysis
from .candidates import Candidate, merge, serves


def ranked(conn: psycopg.Connection[Any], catalog: Catalog, merged: list[Candidate], analyses: list[Analysis],
           hints: list[str]) -> list[Candidate]:
    """``merged`` less the covering twins another candidate's keys serve and those whose statements an index
    serves already (analyze.served_now), busiest first."""
    calls = [a.statement.calls for a in analyses]
    def bare(c: Candidate) -> Candidate:
        plain = replace(c, include=())
        hosted = c.include and any(o is not c and o.table == c.table and serves(o.keys, o.where, o.include, plain)
                                   for o in merged)
        return plain if hosted else c

    folded = served_now.review(conn, catalog, merge([bare(c) for c in merged]), analyses, hints)
    return sorted(folded, key=lambda c: -sum(calls[p] for p in c.statements))
