"""Phase 1's reason says what its share is of: the workload cost saved where what-if costs exist, the calls served
where they do not (heuristic mode, no HypoPG: PostgreSQL 18 here). Claiming a cost cut nobody measured is a
headline the measurement does not back."""

from __future__ import annotations

from pgtune import ddl, plan
from pgtune.analyze import Advice, IndexSuggestion, Method
from pgtune.capture import Statement
from pgtune.ddl import IndexKey


def _index(name: str, column: str, calls: int, cost: tuple[float, float] | None) -> IndexSuggestion:
    return IndexSuggestion("public", "Document", name, [column], [False],
                           ddl.create_index("public", "Document", name, (IndexKey(column),)),
                           ddl.drop_index("public", name), ddl.analyze("public", "Document"), "serves 1 statement",
                           queries=[Statement(queryid=calls, calls=calls,
                                              query=f'SELECT 1 FROM "Document" WHERE "{column}" = $1')],
                           cost_before=cost[0] if cost else None, cost_after=cost[1] if cost else None)


def test_heuristic_advice_s_first_phase_counts_calls_not_a_cost_cut() -> None:
    advice = Advice(method=Method.HEURISTIC, indexes=[_index("Document_userId_idx", "userId", 900, None),
                                                      _index("Document_teamId_idx", "teamId", 100, None)])
    first = plan.build(advice).phases[0]
    assert [i.name for i in first.indexes] == ["Document_userId_idx"], first
    assert "workload cost" not in first.reason, first.reason
    assert "80% of the calls" in first.reason and "no what-if costs" in first.reason, first.reason


def test_costed_advice_s_first_phase_is_a_share_of_the_saving() -> None:
    advice = Advice(method=Method.HYPOPG, indexes=[_index("Document_userId_idx", "userId", 100, (9e5, 1e3)),
                                                   _index("Document_teamId_idx", "teamId", 900, (1e4, 1e3))])
    first = plan.build(advice).phases[0]
    assert [i.name for i in first.indexes] == ["Document_userId_idx"], first
    assert "remove at least 80% of the workload cost" in first.reason, first.reason
