"""A migration written with --layout prisma: pgtune status and verify read the whole of it (the tryouts' F6).

Prisma runs the folders and records them in _prisma_migrations; pgtune's own
folder of the whole migration (manifest, phase scripts, targets with their
baselines) sits in the first of them, where Prisma reads only migration.sql.
Any folder of the set names it. Status takes each phase's state from Prisma's
ledger and the catalog; verify re-plans the targets. apply and rollback are
refused in one line: Prisma runs the folders and has no down migrations.
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

from .test_layouts import PRISMA_LEDGER, as_one_query, emit, prisma_deploy, workload


def test_status_and_verify_of_a_whole_prisma_migration(db: str, conn: psycopg.Connection[Any],
                                                        tmp_path: Path) -> None:
    workload(conn)
    migrations = tmp_path / "prisma" / "migrations"
    m = emit(conn, migrations, plan.Layout.PRISMA)
    folders = sorted(p for p in migrations.iterdir() if p.is_dir())
    assert (folders[0] / "pgtune" / "manifest.json").exists()
    assert [f.name for f in folders[1:] if (f / "pgtune").exists()] == []

    before = CliRunner().invoke(cli, ["status", str(folders[-1]), "--dsn", db, "--format", "json"])
    assert before.exit_code == 0, before.output
    assert {p["state"] for p in json.loads(before.stdout)["phases"]} == {"pending"}
    # A folder run by hand, outside Prisma: pending still, and no "pgtune apply adopts it" (apply is refused here).
    as_one_query(conn, (folders[0] / "migration.sql").read_text())
    by_hand = CliRunner().invoke(cli, ["status", str(folders[0]), "--dsn", db])
    assert by_hand.exit_code == 0 and "pgtune apply --phase" not in by_hand.output, by_hand.output

    assert prisma_deploy(conn, migrations) == [f.name for f in folders]     # the pgtune folder inside is not run
    after = CliRunner().invoke(cli, ["status", str(folders[-1]), "--dsn", db, "--format", "json"])
    assert after.exit_code == 0, after.output
    doc = json.loads(after.stdout)
    assert doc["migration_id"] == m.id
    assert [(p["number"], p["state"], p["missing"]) for p in doc["phases"]] == [
        (p.number, "applied", []) for p in m.phases]

    checked = CliRunner().invoke(cli, ["verify", str(folders[1]), "--dsn", db, "--format", "json"])
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout)["targets"], checked.stdout

    built = next(ix for p in m.phases for ix in p.indexes)
    conn.execute(f'DROP INDEX "{built.schema}"."{built.name}"')
    gone = api.status(conn, folders[0])
    assert not gone.ok and built.name in [n for p in gone.phases for n in p.missing], gone

    for verb in ("apply", "rollback"):
        out = CliRunner().invoke(cli, [verb, str(folders[0]), "--dsn", db])
        assert out.exit_code == 2 and len(out.stderr.strip().splitlines()) == 1, out.output
        assert "written for Prisma" in out.stderr, out.stderr


def test_a_folder_prisma_is_still_deploying_is_not_failed(db: str, conn: psycopg.Connection[Any],
                                                         tmp_path: Path) -> None:
    """While `prisma migrate deploy` runs a folder (its advisory lock held, the row's finished_at not yet set: a
    CREATE INDEX CONCURRENTLY takes a while) the phase is pending; the same row with no deploy running is failed."""
    workload(conn)
    migrations = tmp_path / "prisma" / "migrations"
    emit(conn, migrations, plan.Layout.PRISMA)
    first = sorted(p for p in migrations.iterdir() if p.is_dir())[0]
    conn.execute(PRISMA_LEDGER)
    conn.execute("INSERT INTO _prisma_migrations (id, checksum, started_at, migration_name) "
                 "VALUES ('1', 'x', now(), %s)", (first.name,))
    with psycopg.connect(db, autocommit=True) as prisma:
        prisma.execute("SELECT pg_advisory_lock(72707369)")
        assert {p.state for p in api.status(conn, first / "pgtune").phases} == {PhaseState.PENDING}
    assert PhaseState.FAILED in {p.state for p in api.status(conn, first / "pgtune").phases}
