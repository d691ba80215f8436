"""What-if questions on the same tables are asked side by side (analyze.batch, pool.Pool.map_blocks' key).

A session keeps a few hundred hypothetical indexes (whatif.MAX_PRESENT: every plan walks HypoPG's whole
list), so questions that visit a table, then many others, then the table again made its indexes again each
time: settle's final plans, one table's statements scattered over the workload, made each chosen index
about once per statement (issue 28: 10,000 of speed.py's 27,000 hypothetical indexes at 1,000 statements;
here 549 made for 54 chosen indexes before, 72 now).
"""

from __future__ import annotations

import random
from typing import Any

import psycopg
import pytest

from pgtune.analyze import asking, costing, whatif
from pgtune.analyze.selection import ident

from .test_pool import _advice, _shop


@pytest.mark.needs_hypopg
def test_settle_makes_each_tables_chosen_indexes_once(conn: psycopg.Connection[Any],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    statements = _shop(conn, 6)
    random.Random(28).shuffle(statements)      # pg_stat_statements' order: a table's statements scattered
    monkeypatch.setattr(whatif, "MAX_PRESENT", 12)      # a big workload's many tables, on six
    settling = [False]
    made: list[object] = []
    real_queue, real_settle = whatif.Hypothetical.queue, costing.WhatIf.with_chosen_many

    def queue(self: whatif.Hypothetical, cands: Any, tables: Any, positions: Any = None, wire: Any = None) -> bool:
        creates = self._diff(cands, tables)[1]
        queued = real_queue(self, cands, tables, positions, wire)
        if queued and settling[0]:
            made.extend(ident(c) for c in creates)
        return queued

    def with_chosen_many(self: costing.WhatIf, *args: Any) -> Any:
        settling[0] = True
        try:
            return real_settle(self, *args)
        finally:
            settling[0] = False

    monkeypatch.setattr(whatif.Hypothetical, "queue", queue)
    monkeypatch.setattr(costing.WhatIf, "with_chosen_many", with_chosen_many)
    # Every statement planned by settle (none of its answers taken from the selection's: analyze.asking.settled).
    monkeypatch.setattr(asking, "settled", lambda greedy, costed: lambda pos, mine: None)
    advice = _advice(conn, statements, 1)
    assert advice[0]
    # Each once, but for a join's neighbour table made again after the tables in between: at most twice.
    assert len(set(made)) > 20 and len(made) <= 2 * len(set(made)), (len(made), len(set(made)))


def test_questions_with_the_same_indexes_are_put_side_by_side() -> None:
    """Among a table's questions, those asking with the same set come together (settle's set-less-one plans,
    the curve's with and without each index: per statement they alternate), each table's first: a set is made
    once for them, not once a question (speed.py at 1,000 statements: 18,572 -> 17,431 made)."""
    from types import SimpleNamespace

    from pgtune.analyze import batch
    from pgtune.analyze.candidates import Candidate
    from pgtune.ddl import IndexKey

    def cand(table: str, column: str) -> Candidate:
        return Candidate(("public", table), (IndexKey(column),), 1)

    a, b, c, z = cand("t1", "a"), cand("t1", "b"), cand("t1", "c"), cand("t0", "z")
    t1, t0 = SimpleNamespace(shape=SimpleNamespace(tables={("public", "t1")})), \
        SimpleNamespace(shape=SimpleNamespace(tables={("public", "t0")}))
    asks = [batch.Ask(t1, [a, b, c], [a, b, c]), batch.Ask(t1, [b, c], [b, c]),    # type: ignore[arg-type]
            batch.Ask(t0, [z], [z]), batch.Ask(t1, [c, a, b], [c, a, b]),         # type: ignore[arg-type]
            batch.Ask(t1, [b, c], [b, c])]                                         # type: ignore[arg-type]
    assert batch._grouped(asks, list(range(len(asks)))) == [2, 0, 3, 1, 4]


def test_settles_set_less_one_reads_the_chosen_list_once() -> None:
    """costing._less_one finds each statement's chosen indexes by table, not by reading the whole chosen list
    per statement (4,500 chosen x 5,000 statements at speed.py's 5,000: a quarter of pgtune's CPU in settle)."""
    from types import SimpleNamespace

    from pgtune.analyze.candidates import Candidate
    from pgtune.ddl import IndexKey

    class Counted(list[Candidate]):
        reads = 0

        def __iter__(self) -> Any:
            Counted.reads += 1
            return super().__iter__()

    chosen = Counted(Candidate(("public", f"t{t}"), (IndexKey(c),), 1) for t in range(20) for c in "abc")
    analyses = [SimpleNamespace(shape=SimpleNamespace(tables={("public", f"t{p % 20}")})) for p in range(100)]
    found = [(costing.Priced(1.0, frozenset()), set[int]()) for _ in analyses]    # nothing charged: no question
    got = costing._less_one(None, chosen, analyses, list(range(100)), found, {})   # type: ignore[arg-type]
    assert got == {} and Counted.reads <= 1
