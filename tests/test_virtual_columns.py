"""PostgreSQL 18's virtual generated columns: the server refuses any index naming one (p17, Inbox-Zero-shaped).

``"senderKey" text GENERATED ALWAYS AS (lower("fromDomain"))`` is VIRTUAL by default in 18. pgtune proposed
("emailAccountId", "senderKey") for ``"senderKey" = $1 AND "emailAccountId" = $2``, and apply's first phase failed
at that build ("indexes on virtual generated columns are not supported"). The planner reads the column as its
expression, so an index on ``(lower("fromDomain"))`` serves the filter: the binder records the filter as a use of
that expression, and a last review withdraws whatever else still names such a column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.analyze import Options, virtual_columns
from pgtune.analyze.bind import EQ, FUNC, OUTPUT, bind
from pgtune.analyze.model import Advice, IndexSuggestion, Method
from pgtune.apply import Applier
from pgtune.capture import Catalog, Table

RULE = Table("public", "rule", ("id", "fromDomain", "senderKey", "acct"),
             virtual=(("senderKey", 'lower("fromDomain")'),))
CATALOG = Catalog(tables={RULE.key: RULE}, search_path=("public",))


def test_a_filter_on_a_virtual_column_is_a_use_of_its_expression() -> None:
    shape = bind('SELECT id, "senderKey" FROM rule WHERE "senderKey" = $1 AND acct = $2', CATALOG)
    found = {(u.column, u.role, u.expression) for u in shape.uses}
    assert ("fromDomain", FUNC, 'lower("fromDomain")') in found, found
    assert ("acct", EQ, None) in found and ("fromDomain", OUTPUT, None) in found, found
    assert not any(u.column == "senderKey" for u in shape.uses), found
    assert 1 not in shape.params        # the column's values are not "fromDomain"'s


def test_a_proposal_naming_a_virtual_column_is_withdrawn() -> None:
    gin = IndexSuggestion("public", "rule", "rule_senderkey_idx", ["senderKey"], [False], "", "", "", "")
    plain = IndexSuggestion("public", "rule", "rule_acct_idx", ["acct"], [False], "", "", "", "",
                            where="\"senderKey\" IS NOT NULL")
    fine = IndexSuggestion("public", "rule", "rule_lower_idx", ["fromDomain"], [False], "", "", "", "",
                           expressions=['lower("fromDomain")'])
    advice = Advice(Method.HEURISTIC, indexes=[gin, plain, fine])
    virtual_columns.review(CATALOG, advice)
    assert [ix.name for ix in advice.indexes] == ["rule_lower_idx"]
    assert all("virtual generated column" in h and 'lower("fromDomain")' in h for h in advice.hints), advice.hints


def test_postgresql_18_advice_on_a_virtual_column_builds(db: str, conn: psycopg.Connection[Any],
                                                         tmp_path: Path) -> None:
    if conn.info.server_version < 180000:
        pytest.skip("virtual generated columns are PostgreSQL 18's")
    conn.execute('CREATE TABLE rule (id int PRIMARY KEY, "fromDomain" text NOT NULL, '
                 '"senderKey" text GENERATED ALWAYS AS (lower("fromDomain")), acct int NOT NULL)')
    conn.execute("INSERT INTO rule (id, \"fromDomain\", acct) SELECT g, 'Mail' || (g % 20000) || '.COM', g % 50 "
                 "FROM generate_series(1, 200000) g")
    conn.execute("ANALYZE rule")
    conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(db, autocommit=True) as app:
        for k in range(30):
            app.execute('SELECT id FROM rule WHERE "senderKey" = %s AND acct = %s',
                        (f"mail{k * 37}.com", k % 50), prepare=True).fetchall()
    result = api.suggest(conn, api.SuggestOptions(indexes=Options(min_rows=100), constraints=False),
                         emit=api.EmitOptions(directory=tmp_path / "mig"))
    proposals = result.indexes.indexes
    assert proposals and not any("senderKey" in (*ix.columns, *ix.include) for ix in proposals), proposals
    Applier(conn, tmp_path / "mig").apply()
    plan = "\n".join(r[0] for r in conn.execute(
        "EXPLAIN SELECT id FROM rule WHERE \"senderKey\" = 'mail37.com' AND acct = 1").fetchall())
    assert "Index" in plan and "lower(" in plan, plan
