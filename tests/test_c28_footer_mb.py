"""p28: the footer's "selection: … chosen step N: X MB" was the b-tree set before the GIN/BRIN/hash proposals
(chosen step 5: 152.7 MB where the emitted set was 234 MB): the MB of the set proposed is said beside it."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.cli import cli

from .helpers import steady_state
from .test_p28_kinds_budget import BY_BOT, RESULTS, SEARCH


@pytest.mark.needs_hypopg
def test_the_footer_says_the_mb_of_the_set_proposed_with_its_gin(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute(RESULTS)
    steady_state(conn)
    with psycopg.connect(db, autocommit=True, cursor_factory=psycopg.RawCursor) as app:
        for n in range(20):
            app.execute(SEARCH, (f'[{{"value": "visitor{n * 997}@mail.test"}}]',)).fetchall()
            app.execute(BY_BOT, (f"bot{n}",)).fetchall()
    shown = CliRunner().invoke(cli, ["suggest", "--dsn", db])
    assert shown.exit_code == 0, shown.output
    doc = json.loads(CliRunner().invoke(cli, ["suggest", "--dsn", db, "--format", "json"]).output)
    sizes = [ix["forecast_bytes"] / 1048576 for ix in doc["indexes"]]
    assert len(sizes) == 2 and doc["curve"][-1]["forecast_bytes"] / 1048576 < sum(sizes) - 1, (sizes, doc["curve"])
    footer = next(line for line in shown.output.splitlines() if line.startswith("selection:"))
    assert f"proposed with the GIN/BRIN/hash changes: {sum(sizes):,.1f} MB" in footer, (footer, sizes)
