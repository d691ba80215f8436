"""A limit of 0 is a setting the application may write: ``>= 0``, never ``> 0``, even when no row holds 0 yet.

Found on a survey app's database (Formbricks-shaped): ``Survey.displayLimit``
(``Int?``, validated as any number) held 1..5 in every row that set it, so
pgtune proposed ``"displayLimit" > 0`` and after apply the application's
update of a survey to ``displayLimit = 0`` was refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.apply import Applier
from pgtune.cli import cli
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


def test_a_limit_of_minus_one_for_unlimited_is_never_refused(db: str, conn: psycopg.Connection[Any],
                                                             tmp_path: Path) -> None:
    """r7: "usageLimit" holding 1..50 got ``>= 0`` (high), and an UPDATE to -1 ("unlimited") was refused after apply.
    A limit, quota, capacity or seat count is now a low-confidence hint: listed, never written to a migration."""
    conn.execute('CREATE TABLE "Plan" (id text PRIMARY KEY, "usageLimit" integer, "seatQuota" integer, '
                 '"seatsUsed" integer)')
    conn.execute("""INSERT INTO "Plan" SELECT 'p' || g, 1 + g % 50, 1 + g % 20, g % 20 """
                 "FROM generate_series(1, 3000) g")
    conn.execute('ANALYZE "Plan"')
    got = {",".join(c.columns): c for c in propose(conn).constraints}
    assert {"usageLimit", "seatQuota"} <= set(got), got
    assert all(got[c].confidence == "low" for c in ("usageLimit", "seatQuota")), got
    assert got["seatsUsed"].confidence == "high"
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", "-", "--emit", str(tmp_path / "m"),
                                   "--constraints"], input="SELECT 1;")
    assert out.exit_code == 0, out.output
    text = "".join(p.read_text() for p in (tmp_path / "m").glob("*.sql"))
    assert '"seatsUsed"' in text and "usageLimit" not in text and "seatQuota" not in text, text
    assert Applier(conn, tmp_path / "m").apply().phases_run
    conn.execute("""UPDATE "Plan" SET "usageLimit" = -1, "seatQuota" = -1 WHERE id = 'p3'""")
