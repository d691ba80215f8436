"""pgtune status showed "-" under missing for a failed phase (c38, a review leftover of v37).

Only an applied phase was checked against the catalog: a failed one listed just the INVALID builds its run left,
so a phase whose deploy died before it built anything read "failed … missing -", as if nothing were lacking. A
failed phase now lists what its run has not made, as an applied one lists what is gone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune import api, plan
from pgtune.cli import cli
from pgtune.history import PhaseState

from .test_layouts import PRISMA_LEDGER, emit, workload


def test_a_failed_phase_says_what_is_missing(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    workload(conn)
    migrations = tmp_path / "prisma" / "migrations"
    m = emit(conn, migrations, plan.Layout.PRISMA)
    first = sorted(p for p in migrations.iterdir() if p.is_dir())[0]
    # `prisma migrate deploy` killed while it built the first folder's index: its row started, never finished,
    # and no deploy holds Prisma's advisory lock any more (the same state a failed build leaves)
    conn.execute(PRISMA_LEDGER)
    conn.execute("INSERT INTO _prisma_migrations (id, checksum, started_at, migration_name) "
                 "VALUES ('1', 'x', now(), %s)", (first.name,))
    [failed] = [p for p in api.status(conn, first / "pgtune").phases if p.state == PhaseState.FAILED]
    built = [ix.name for ix in m.phases[failed.number - 1].indexes]
    assert built, m.phases[failed.number - 1]
    # Without the fix: [] (shown "-").
    assert failed.missing == built, failed

    out = CliRunner().invoke(cli, ["status", str(first), "--dsn", db, "--format", "json"])
    assert out.exit_code == 1, out.output
    [doc] = [p for p in json.loads(out.stdout)["phases"] if p["state"] == "failed"]
    assert doc["missing"] == built, doc
    table = CliRunner().invoke(cli, ["status", str(first), "--dsn", db])
    [row] = [line for line in table.stdout.splitlines() if " failed " in line]
    assert built[0] in row, table.stdout
