"""``--layout prisma`` without ``--prisma-schema`` says which builds the schema does not declare (p34, OpenPanel).

docs/prisma.md shows step 2 (``suggest --prisma-schema … --write``) and step 3 (``suggest --emit prisma/migrations
--layout prisma``) as two commands. Run minutes apart on an OpenPanel-shaped database, under its running workload,
they proposed different sets: the schema got 10 ``@@index`` lines, 4 of them for indexes the migrations did not
build, and 2 of the 8 builds had no line, so the next ``prisma migrate dev`` would drop them as drift. The emit
said nothing about the schema. It now says, on stderr, which of its builds the schema beside the migrations
folder does not name, and how to write their lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli

from .test_layouts import workload

SCHEMA = 'datasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}\n'


def _emit(db: str, folder: Path) -> tuple[int, str]:
    r = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--no-constraints", "--emit", str(folder),
                                 "--layout", "prisma", "--format", "json"])
    return r.exit_code, r.stderr


def test_prisma_builds_the_schema_does_not_declare_are_named(db: str, conn: psycopg.Connection[Any],
                                                             tmp_path: Path) -> None:
    workload(conn)
    schema = tmp_path / "prisma" / "schema.prisma"
    schema.parent.mkdir()
    schema.write_text(SCHEMA)
    code, err = _emit(db, tmp_path / "prisma" / "migrations")
    assert code == 0, err
    built = sorted({line.split('"')[1] for f in (tmp_path / "prisma" / "migrations").glob("*/migration.sql")
                    for line in f.read_text().splitlines() if line.startswith("CREATE INDEX CONCURRENTLY")})
    assert built
    said = [line for line in err.splitlines() if "drift" in line]
    assert said and str(schema) in said[0] and f"{len(built)} of the {len(built)}" in said[0], err   # main: none
    assert built[0] in said[0] or "more" in said[0]
    # Declared (as --write would), the same builds are no drift: nothing said.
    schema.write_text(SCHEMA + "".join(f'// @@index([x], map: "{n}")\n' for n in built))
    code, err = _emit(db, tmp_path / "prisma" / "again")
    assert code == 0 and "drift" not in err, err
