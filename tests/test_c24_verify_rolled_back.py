"""verify right after a rollback says the migration is rolled back, not "cost cut now 1.0x" (c24, LOW).

Every target read FAIL with a "cost cut now" of 1.0x, as if verify had measured that the indexes did
nothing; the note under the table said why. A migration rolled back whole now gets one line saying there is
nothing to verify, then the phases' notes; exit 0 since n38 (a rollback is no failure: v39).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.apply import Applier
from pgtune.cli import cli

from .test_migration import emit


def test_verify_after_a_rollback_says_there_is_nothing_to_verify(db: str, conn: psycopg.Connection[Any],
                                                                  tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    Applier(conn, tmp_path / "mig").apply()
    applied = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db])
    assert applied.exit_code == 0 and "cost cut now" in applied.stdout, applied.output
    Applier(conn, tmp_path / "mig").rollback()
    result = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db])
    assert result.exit_code == 0, result.output
    first, *notes = result.stdout.strip().splitlines()
    # Without the fix: the table, each target "FAIL … 1.0x … expected index not used".
    assert first.startswith(f"verify: migration {m.id} is rolled back") and "nothing to verify" in first, first
    assert "1.0x" not in result.stdout and "cost cut now" not in result.stdout, result.stdout
    assert notes and all(line.startswith("note: phase") and "is rolled back" in line for line in notes), notes
