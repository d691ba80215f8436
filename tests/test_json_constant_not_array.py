"""A JSON object constant pg_qualstats cut at 79 bytes is no array literal (c19).

pg_qualstats keeps a constant's first 79 bytes: ``'{"plan": "pro", …}'::j`` of a ``settings = $1`` on a jsonb
column. arrays.whole_array_cut_cast read a '{…}' whose cast was cut as a whole array literal (bb3b650, for an IN
list's '{1352,910,…}'::intege), and arrays.cut_array one cut inside the object as an array's whole elements: the
statement's $1 was valued with a piece of the object ('plan'), not a JSON value, and every plan of it failed on the
server ("invalid input syntax for type json").
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from pgtune.analyze import Options
from pgtune.analyze.arrays import array_elements, cut_array, whole_array_cut_cast

from .helpers import suggest

BY_SETTINGS = "SELECT id FROM accounts WHERE settings = $1"


def _settings(k: int, pad: int) -> dict[str, Any]:
    return {"plan": "pro", "seats": 10 + k % 3, "trial": False, "region": "r" * pad}    # 58 + pad bytes as jsonb


@pytest.mark.needs_qualstats
@pytest.mark.parametrize("pad", [16, 32])     # '{…}'::j, the object whole and its cast cut; the object cut
def test_a_json_object_constant_values_its_parameter_whole(db: str, conn: psycopg.Connection[Any], pad: int) -> None:
    conn.execute("CREATE TABLE accounts (id serial PRIMARY KEY, settings jsonb NOT NULL)")
    conn.execute("INSERT INTO accounts (settings) SELECT jsonb_build_object('plan', 'pro', 'seats', 10 + g % 90, "
                 f"'trial', false, 'region', repeat('r', {pad})) "
                 "FROM generate_series(1, 30000) g")
    conn.execute("ANALYZE accounts")
    conn.execute("SELECT pg_stat_statements_reset(), pg_qualstats_reset()")
    with psycopg.connect(db, autocommit=True, prepare_threshold=None, cursor_factory=psycopg.RawCursor) as app:
        for k in range(30):
            app.execute(BY_SETTINGS, [Jsonb(_settings(k, pad))]).fetchall()
    [(kept,)] = conn.execute("SELECT DISTINCT constvalue FROM pg_qualstats() WHERE constvalue LIKE '''{%' "
                             "LIMIT 1").fetchall()
    assert len(kept.encode()) <= 79 and not kept.endswith("::jsonb"), kept
    advice = suggest(conn, options=Options(min_rows=100))
    [st] = [s for s in advice.statements if "settings" in s.query]
    assert st.scenarios
    for scenario in st.scenarios:
        value = scenario["values"].get("$1")
        assert value is None or value.startswith("{"), (kept, value)    # was 'plan'
        assert value is None or isinstance(json.loads(value), dict), (kept, value)
    assert st.cost_before is not None


def test_an_array_literal_is_still_one() -> None:
    cut = "'{" + ",".join(str(1000 + k) for k in range(15)) + "}'::intege"
    assert whole_array_cut_cast(cut) and array_elements(cut[1:cut.rfind("'")])
    assert cut_array("'{\"a b\",\"c\",\"d") == ["a b", "c"]
    assert array_elements('{"plan": "pro", "seats": 10}') is None
