"""Migrations in Prisma's layout deployed before their schema lines: suggest still writes the lines (u15).

Every migration pgtune writes for Prisma says to run `suggest --prisma-schema
… --write` so that the next `prisma migrate dev` keeps its indexes. On a
Formbricks-shaped database a user emitted, deployed, then ran it: the indexes
existed, so suggest proposed none and wrote no line, and the next migrate dev
would have dropped all six. Now each index pgtune built that the schema does
not declare gets its line, in suggest and in health.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli

from .test_layouts import prisma_deploy
from .test_prisma import SIGNING, engine, signing_project


def test_lines_for_indexes_deployed_before_the_schema_had_them(conn: psycopg.Connection[Any], db: str,
                                                                tmp_path: Path) -> None:
    schema, migrations = signing_project(conn, tmp_path)
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--emit", str(migrations), "--layout", "prisma",
                                   "--format", "json", "--no-constraints"])
    assert out.exit_code == 0, out.output
    built = {ix["name"] for ix in json.loads(out.stdout)["indexes"]}
    assert built and all(name.endswith("_pgtune_idx") for name in built), built
    prisma_deploy(conn, migrations)

    # health, which reviews what exists, names them too (without --write: the schema stays as it is).
    review = CliRunner().invoke(cli, ["health", "--dsn", db, "--prisma-schema", str(schema), "--format", "json"])
    assert review.exit_code in (0, 1), review.output
    named = {p["name"] for p in json.loads(review.stdout)["prisma"]["proposals"]
             if "not declared in the schema" in p["note"]}
    assert named == built, json.loads(review.stdout)["prisma"]["proposals"]
    assert schema.read_bytes() == SIGNING.read_bytes()

    after = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--prisma-schema", str(schema), "--write",
                                     "--format", "json", "--no-constraints"])
    assert after.exit_code == 0, after.output
    data = json.loads(after.stdout)
    assert not data["indexes"]                       # the workload is served: nothing new to build
    written = {p["name"] for p in data["prisma"]["proposals"] if p["written"]}
    lines = {p["name"] for p in data["prisma"]["proposals"] if p["fit"] == "line"}
    assert written == lines and lines <= built and lines, data["prisma"]["proposals"]
    assert all("not declared in the schema" in p["note"] for p in data["prisma"]["proposals"])
    dmmf = engine(schema)
    assert "error" not in dmmf, dmmf
    assert written <= {i.get("dbName") for i in dmmf["indexes"]}

    # Declared now: a second run has no line left to write (an index no line can declare, as one with INCLUDE
    # where the heuristic proposes it on PostgreSQL 18, keeps its note).
    again = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--prisma-schema", str(schema), "--write",
                                     "--format", "json", "--no-constraints"])
    assert again.exit_code == 0, again.output
    left = json.loads(again.stdout)["prisma"]["proposals"]
    assert not [p for p in left if p["fit"] == "line" or p["written"]], left
