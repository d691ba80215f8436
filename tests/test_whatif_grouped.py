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

from pgtune.analyze import costing, whatif
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
    advice = _advice(conn, statements, 1)
    assert advice[0]
    # Each once, but for a join's neighbour table made again after the tables in between: at most twice.
    assert len(set(made)) > 20 and len(made) <= 2 * len(set(made)), (len(made), len(set(made)))
