"""How the greedy (analyze.selection) asks the what-if sessions, and settle takes the greedy's answers.

The sessions answer with what each question's plans used (answers.Said): each
hypothetical index made for a question is credited to its candidate's number
(answers.Numbering), read back from the plans' index names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .analysis import Analysis
from .answers import Numbering
from .candidates import Candidate
from .costing import WhatIf
from .pool import Pool
from .selection import Greedy
from .selection_model import Question, Said, ident


def planners(sessions: Pool[WhatIf], analyses: Sequence[Analysis],
             sample: Callable[[Candidate], object], count: Callable[[int], None],
             ) -> tuple[Callable[[int, list[Candidate]], Said], Callable[[list[Question]], list[Said]]]:
    """The greedy's planner (one question, on the pool's first session as it is now: it may have been recycled)
    and plan_many (over the pool) for statement ``pos`` of ``analyses``; ``sample``: called on each candidate
    before a pool plans with it (on this thread, not a pool's); ``count``: told how many questions go to the pool."""
    numbering = Numbering()

    def plan_many(questions: list[Question]) -> list[Said]:
        for _, config in questions:
            for c in config:
                sample(c)
            numbering.add(config)
        count(len(questions))
        return sessions.map_blocks(lambda w, block: w.said_many([(analyses[p], config) for p, config in block],
                                                                numbering), questions)

    def plan(pos: int, config: list[Candidate]) -> Said:
        numbering.add(config)
        return sessions.first.said_many([(analyses[pos], config)], numbering)[0]
    return plan, plan_many


def settled(greedy: Greedy, costed: list[int]) -> Callable[[int, list[Candidate]], Said | None]:
    """For costing.settle: statement ``pos`` (of the analyses; ``costed`` maps the greedy's positions to them)
    planned with ``mine``, as the greedy asked it: with those of ``mine`` it could use (selection.Workload.could:
    no other can change its plan, and the selection and the curve were costed so), none standing in for another."""
    where = {p: i for i, p in enumerate(costed)}

    def known(pos: int, mine: list[Candidate]) -> Said | None:
        at = where.get(pos)
        if at is None:
            return None
        _, key, usable = greedy.keyed(at, mine)
        if not {ident(k[0]) for k in usable.values()} <= {ident(c) for c in mine}:
            return None
        found = greedy.answers.settled(key)
        if found is None:
            return None
        cost, uses, planned = found
        return Said(cost, frozenset(ident(usable[n][0]) for n in uses if n in usable), planned=planned)
    return known
