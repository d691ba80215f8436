"""status and verify given Prisma's migrations folder itself name pgtune's migrations in it (u15).

The folder given to `suggest --emit … --layout prisma` is Prisma's migrations
folder; pgtune's plan sits inside its first migration folder. Given the former,
status said "not a pgtune migration folder (no manifest.json)", which left a
new user guessing where the migration went.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli

from .test_prisma import signing_db


def test_the_migrations_folder_names_pgtunes_migrations(conn: psycopg.Connection[Any], db: str,
                                                        tmp_path: Path) -> None:
    signing_db(conn)
    migrations = tmp_path / "prisma" / "migrations"
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--emit", str(migrations), "--layout", "prisma",
                                   "--no-constraints"])
    assert out.exit_code == 0, out.output
    [first] = [p for p in migrations.iterdir() if (p / "pgtune" / "manifest.json").exists()]
    for verb in ("status", "verify", "apply"):
        said = CliRunner().invoke(cli, [verb, "--dsn", db, str(migrations)])
        assert said.exit_code == 2, (verb, said.output)
        assert "is Prisma's migrations folder" in said.output and str(first) in said.output, (verb, said.output)
    # One of its folders is read as before.
    status = CliRunner().invoke(cli, ["status", "--dsn", db, str(first)])
    assert status.exit_code in (0, 1) and "Traceback" not in status.output, status.output
