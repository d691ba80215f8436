"""A schema per tenant whose application sends the same unqualified text in each (a role per tenant, its own
search_path): withdrawing one tenant's proposal must leave the other tenant's statements their cut.

Advice.withdraw told the statements a withdrawn proposal served by their text; where the same proposal name
stays in another schema, a statement of that other tenant with the same text lost its index and its cut too,
though its own index stayed proposed (r18: the covering twin kept in t_old took t_new's 40x cut, and t_new's
index was emitted with no statement said to use it, no target for verify to time).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune import api
from pgtune.plan import Layout

from .helpers import all_visible, steady_state
from .test_covering_twin import EVENTS, OLD, VISITORS


@pytest.mark.needs_hypopg
def test_one_tenants_twin_withdrawn_leaves_the_others_same_text_statement(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    roles = _tenants(db, conn, drop_old=("t_new",))       # t_old keeps its old index, which Flyway keeps
    result = api.suggest(conn, api.SuggestOptions(constraints=False),
                         emit=api.EmitOptions(directory=tmp_path / "mig", layout=Layout.FLYWAY))
    advice = result.indexes
    assert any(f"covering twin of existing index {OLD}" in h for h in advice.hints), advice.hints
    assert [ix.schema for ix in advice.indexes] == ["t_new"], advice.hints
    oids = {int(r[1]): r[0] for r in conn.execute("SELECT rolname, oid FROM pg_roles")}
    ids = {r[0]: oids[int(r[1])] for r in conn.execute(
        "SELECT queryid, userid FROM pg_stat_statements WHERE query LIKE '%count(DISTINCT session_id)%'")}
    [new] = [st for st in advice.statements if ids.get(st.queryid) == roles["t_new"]]
    assert new.cost_before is not None and new.cost_after is not None
    assert new.indexes == [advice.indexes[0].name], (new.indexes, advice.hints)
    assert new.cost_after < new.cost_before / 2         # t_new's statement keeps its gain


def test_a_withdrawn_tenants_cut_under_min_gain_goes_with_its_index() -> None:
    """settle names the indexes of a cut under MIN_GAIN (so that a withdrawal takes it back) but lists it in no
    proposal's queries: withdrawing t_small's index while t_big's same-named one stays left t_small's 5% cut
    counted, its withdrawn index named in its plan."""
    from pgtune.analyze.model import Advice, AnalyzedStatement, IndexSuggestion, Method
    from pgtune.capture import Statement

    name = "polls_user_id_idx"
    text = "SELECT id FROM polls WHERE user_id = $1"
    big = AnalyzedStatement(1, text, 10, 1.0, cost_before=900.0, cost_after=4.0, indexes=[name])
    small = AnalyzedStatement(2, text, 10, 1.0, cost_before=100.0, cost_after=95.0, indexes=[name])
    assert not small.credited
    advice = Advice(indexes=[IndexSuggestion("t_big", "polls", name, ["user_id"], [False], "", "", "", "",
                                             queries=[Statement(text, queryid=1)]),
                             IndexSuggestion("t_small", "polls", name, ["user_id"], [False], "", "", "", "")],
                    statements=[big, small], method=Method.HYPOPG)
    advice.withdraw(name, "withdrawn in t_small", "t_small")
    assert [(ix.schema, ix.name) for ix in advice.indexes] == [("t_big", name)]
    assert big.indexes == [name] and big.cost_after == 4.0
    assert small.indexes == [] and small.cost_after == 100.0


def _tenants(db: str, conn: psycopg.Connection[Any], drop_old: tuple[str, ...],
             small_new: bool = False) -> dict[str, str]:
    """t_old and t_new, each read by its own role through its search_path with the same text; their roles."""
    roles = {}
    for schema in ("t_old", "t_new"):
        conn.execute(f"CREATE SCHEMA {schema}; SET search_path = {schema}")
        conn.execute(EVENTS)
        if schema in drop_old:
            conn.execute(f"DROP INDEX {OLD}")
        if schema == "t_new" and small_new:      # a smaller tenant: its plans cost less than t_old's
            conn.execute("DELETE FROM website_event WHERE event_id % 4 <> 0")
        all_visible(conn, "website_event")
        role = roles[schema] = f"{schema}_{conn.info.dbname}"
        conn.execute(sql.SQL("CREATE ROLE {0} LOGIN; ALTER ROLE {0} SET search_path = {1}; "
                             "GRANT USAGE ON SCHEMA {1} TO {0}; GRANT SELECT ON ALL TABLES IN SCHEMA {1} TO {0}")
                     .format(sql.Identifier(role), sql.Identifier(schema)))
    conn.execute("RESET search_path")
    steady_state(conn)
    for role in roles.values():
        with psycopg.connect(db, user=role, autocommit=True) as app, app.cursor() as cur:
            for i in range(30):
                cur.execute(VISITORS, (1 + i % 40, "2026-03-01", "2026-03-31", 2, 5), prepare=True)
    return roles


@pytest.mark.needs_hypopg
def test_each_tenants_same_text_statement_is_a_target_in_its_own_schema(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """The migration's targets were keyed by text: of two tenants' same statement, one target stayed (the last
    tenant's), and verify timed one tenant for both."""
    roles = _tenants(db, conn, drop_old=("t_old", "t_new"), small_new=True)
    result = api.suggest(conn, api.SuggestOptions(constraints=False),
                         emit=api.EmitOptions(directory=tmp_path / "mig", measure=True))
    assert sorted(ix.schema for ix in result.indexes.indexes) == ["t_new", "t_old"], result.indexes.hints
    assert result.migration is not None
    paths = sorted(tuple(t.search_path or ()) for t in result.migration.targets if "session_id" in t.query)
    assert paths == [("t_new",), ("t_old",)], (paths, roles)
    # Each priced in its own schema: the warm prediction keyed by text gave both the last one's costs.
    warm = {tuple(t.search_path or ()): (t.warm_baseline_cost, t.baseline_cost) for t in result.migration.targets
            if "session_id" in t.query}
    (old_warm, old_cost), (new_warm, new_cost) = warm[("t_old",)], warm[("t_new",)]
    assert old_warm is not None and new_warm is not None and old_cost is not None and new_cost is not None, \
        (warm, [(t.expected_indexes, t.predicted_cost) for t in result.migration.targets])
    assert old_cost > 1.2 * new_cost and old_warm > 1.2 * new_warm, warm
