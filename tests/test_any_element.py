"""``$1 = ANY(col)`` over an array column: the value planned for ``$1`` is one element, not an array.

Prisma sends ``has`` on an enum list as ``$1 = ANY("roles")`` (u5, on a
documenso-shaped database). suggest valued ``$1`` with the column's common
array ``'{USER}'``, the enum cast failed and the statement was left out as
unplannable (3-5 ERROR lines in the server's log per run).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.capture import Statement

pytestmark = pytest.mark.needs_hypopg     # what is asked: the what-if plan of the statement, and its cost

HAS_ROLE = 'SELECT id FROM "User" WHERE $1 = ANY("roles") AND "teamId" = $2'


def test_an_element_of_an_enum_array_is_planned_with_one_element(conn: psycopg.Connection[Any]) -> None:
    conn.execute("""
        CREATE TYPE "Role" AS ENUM ('ADMIN', 'USER', 'GUEST');
        CREATE TABLE "User" (id int PRIMARY KEY, "teamId" int NOT NULL,
                             "roles" "Role"[] NOT NULL DEFAULT ARRAY['USER']::"Role"[]);
        INSERT INTO "User" SELECT g, g % 300,
               CASE WHEN g % 10 = 0 THEN ARRAY['ADMIN', 'USER']::"Role"[] ELSE ARRAY['USER']::"Role"[] END
        FROM generate_series(1, 30000) g;
        ANALYZE "User";
    """)
    advice = api.suggest(conn, api.SuggestOptions(constraints=False), statements=[
        Statement(HAS_ROLE, queryid=1, calls=1000)]).indexes
    [planned] = [s for s in advice.statements if s.queryid == 1]
    assert planned.values.get("$1") in ("USER", "ADMIN"), planned.values
    assert planned.cost_before is not None, advice.hints
    assert [ix.columns for ix in advice.indexes] == [["teamId"]], (advice.hints, [ix.ddl for ix in advice.indexes])
