"""p28: the footer's "selection: … chosen step N: X MB" was the b-tree set before the GIN/BRIN/hash proposals
(chosen step 5: 152.7 MB where the emitted set was 234 MB): the MB of the set proposed is said beside it."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.cli import cli

from .test_p28_kinds_budget import results_read


@pytest.mark.needs_hypopg
def test_the_footer_says_the_mb_of_the_set_proposed_with_its_gin(db: str, conn: psycopg.Connection[Any]) -> None:
    results_read(db, conn)
    shown = CliRunner().invoke(cli, ["suggest", "--dsn", db])
    assert shown.exit_code == 0, shown.output
    doc = json.loads(CliRunner().invoke(cli, ["suggest", "--dsn", db, "--format", "json"]).output)
    sizes = [ix["forecast_bytes"] / 1048576 for ix in doc["indexes"]]
    assert len(sizes) == 2 and doc["curve"][-1]["forecast_bytes"] / 1048576 < sum(sizes) - 1, (sizes, doc["curve"])
    footer = next(line for line in shown.output.splitlines() if line.startswith("selection:"))
    assert f"proposed with the GIN/BRIN/hash changes: {sum(sizes):,.1f} MB" in footer, (footer, sizes)
