"""A limit of 0 is a setting the application may write: ``>= 0``, never ``> 0``, even when no row holds 0 yet.

Found on a survey app's database (Formbricks-shaped): ``Survey.displayLimit``
(``Int?``, validated as any number) held 1..5 in every row that set it, so
pgtune proposed ``"displayLimit" > 0`` and after apply the application's
update of a survey to ``displayLimit = 0`` was refused.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.constraints import propose

SCHEMA = """
CREATE TABLE "Survey" ("id" text PRIMARY KEY, "displayLimit" integer);
INSERT INTO "Survey" SELECT 'cs' || g, CASE WHEN g % 4 = 3 THEN 1 + g % 5 END FROM generate_series(1, 3000) AS g;
ANALYZE "Survey";
"""


def test_a_limit_gets_non_negative_not_positive(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    got = {(",".join(c.columns), c.kind): c for c in propose(conn).constraints}
    assert ("displayLimit", "non-negative") in got, got       # the rule is still proposed
    assert ("displayLimit", "positive") not in got, got
    rule = got[("displayLimit", "non-negative")]
    conn.execute(f'ALTER TABLE "Survey" ADD CONSTRAINT u7_limit CHECK ({rule.check})')
    conn.execute("""UPDATE "Survey" SET "displayLimit" = 0 WHERE id = 'cs3'""")
