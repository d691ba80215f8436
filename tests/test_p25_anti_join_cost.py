"""An anti join's inner index scan was charged every page it would save: a negative planner cost (p25, MEDIUM).

On a Ghostfolio-shaped database (2M orders, a foreign key "symbolProfileId" with no index), suggest proposed
"Order_symbolProfileId_idx" with "planner cost -2828.1x lower": the admin's `DELETE FROM "SymbolProfile" WHERE id
IN (SELECT id … WHERE NOT EXISTS (SELECT 1 FROM "Order" o WHERE o."symbolProfileId" = s.id) LIMIT $2)` was
predicted at -26,517 (built: 27,126). The hypothetical b-tree is sized without deduplication, and calibration
takes back the page reads the built one saves, per run of the scan, over every run: but a semi or anti join stops
each inner scan at its first match, and the planner counts that share of the scan's run cost only
(final_cost_nestloop's inner_scan_frac, 2 / (rows + 1)). Now the page correction of such an inner scan is scaled
by that share: 30,298 predicted for the 27,126 built.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.analyze import Options

from .helpers import steady_state, suggest

SCHEMA = """
CREATE TABLE profile (id text PRIMARY KEY, symbol text NOT NULL);
INSERT INTO profile SELECT md5('s' || g)::uuid::text, 'SYM' || g FROM generate_series(1, 10000) g;
CREATE TABLE activity (id bigint PRIMARY KEY, profile_id text NOT NULL REFERENCES profile (id), qty int NOT NULL);
INSERT INTO activity SELECT g, md5('s' || (1 + (g * 31) % 9990))::uuid::text, g % 100
FROM generate_series(1, 400000) g;
ALTER TABLE activity ALTER COLUMN profile_id SET STATISTICS 10000;
"""

ORPHANS = ("SELECT p.id FROM profile p WHERE NOT EXISTS (SELECT 1 FROM activity a WHERE a.profile_id = p.id) "
           "LIMIT %s")


@pytest.mark.needs_hypopg
def test_an_anti_join_inner_scan_is_not_charged_below_zero(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    conn.execute("VACUUM ANALYZE profile, activity")
    steady_state(conn)
    with psycopg.connect(db, autocommit=True) as app:
        for _ in range(5):
            app.execute(ORPHANS, (1000,)).fetchall()
    advice = suggest(conn, options=Options(min_rows=1000))
    [orphans] = [s for s in advice.statements if "NOT EXISTS" in s.query]
    assert orphans.cost_before is not None and orphans.cost_after is not None, orphans
    assert "activity_profile_id_idx" in " ".join(orphans.indexes) or orphans.indexes, orphans
    # Without the fix: a negative cost (every inner run charged the pages dedup saves, where the planner counts
    # the share up to the first match).
    assert orphans.cost_after > 0, (orphans.cost_before, orphans.cost_after)
    # Against the index built for real: the prediction is within 2x of the planner's cost with it.
    conn.execute("CREATE INDEX activity_profile_id_built ON activity (profile_id)")
    conn.execute("ANALYZE activity")
    [(plan,)] = conn.execute("EXPLAIN (FORMAT JSON) " + ORPHANS.replace("%s", "1000")).fetchall()
    built = float(plan[0]["Plan"]["Total Cost"])
    assert built / 2 <= orphans.cost_after <= built * 2, (orphans.cost_after, built)
