"""A number column of an attribute table is a value, not a quantity: no non-negative CHECK on it.

Found on a survey app's database (Formbricks-shaped): a contact attribute holds
its text in ``value`` and, for numeric attributes, the number in ``valueNumber``
(``Float?``; the application's validation accepts any number). Every value so
far was a non-negative purchase count, so pgtune proposed
``"valueNumber" >= 0`` with high confidence, and after apply the application's
next attribute of -3.5 (a balance, a score, a temperature) was refused.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.constraints import propose

SCHEMA = """
CREATE TABLE "ContactAttribute" (
    "id"             text PRIMARY KEY,
    "value"          text NOT NULL,
    "valueNumber"    double precision,
    "purchaseCount"  integer NOT NULL DEFAULT 0
);
INSERT INTO "ContactAttribute"
SELECT 'ca' || g, (g % 20)::text, CASE WHEN g % 3 = 0 THEN g % 20 END, g % 7 FROM generate_series(1, 3000) AS g;
ANALYZE "ContactAttribute";
"""


def test_a_value_number_gets_no_non_negative_check(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    proposed = {(",".join(c.columns), c.kind) for c in propose(conn).constraints}
    assert ("purchaseCount", "non-negative") in proposed, proposed      # the family works on this table
    assert not {k for k in proposed if k[0] == "valueNumber"}, proposed
    conn.execute("""INSERT INTO "ContactAttribute" (id, value, "valueNumber") VALUES ('new', '-3.5', -3.5)""")
