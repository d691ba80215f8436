"""--layout flyway / golang-migrate in a folder numbered by sequence took a timestamp (v39 open, r40).

A team's Flyway folder V1__init.sql, V2__…; golang-migrate's 000001_init.up.sql (``migrate create -seq``, six
digits by default). pgtune named its migrations V20261208…_01__… and 20261208…_pgtune_…: they sort after, but
jump ahead of the scheme, so the team's next V3__ (or ``migrate create -seq``'s 20261208…+1) comes out of order:
Flyway refuses a version below the highest applied (outOfOrder off), golang-migrate never runs one on a database
already past it. Both compare versions as numbers (Flyway part by part, golang-migrate as one unsigned integer)
and each version must be unique. pgtune's now take the next numbers, as wide as the folder's. A folder numbered
by timestamp keeps timestamps. Nothing here depends on today's date: the stamps in the folders are fixed, and
only their order against pgtune's is asserted.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune import api, plan
from pgtune.cli import cli

from .test_layouts import workload

FLYWAY = re.compile(r"V([\d._]+)__(.*)\.sql")
GOLANG = re.compile(r"(\d+)_(.*)\.up\.sql")


def migration(conn: psycopg.Connection[Any], tmp_path: Path) -> plan.Migration:
    workload(conn)
    result = api.suggest(conn, api.SuggestOptions(constraints=True), emit=api.EmitOptions(
        directory=tmp_path / "pgtune", first_phase_share=0.5, constraints=True))
    assert result.migration is not None and len(result.migration.phases) >= 3, result.migration
    return result.migration


def versions(folder: Path, pattern: re.Pattern[str], *, ours: bool) -> list[str]:
    """The versions in ``folder``, in the tool's order (numeric, part by part): pgtune's or the others."""
    found = [(m.group(1), "pgtune" in m.group(2)) for p in folder.iterdir() if (m := pattern.fullmatch(p.name))]
    key = [v for v, mine in found if mine == ours]
    return sorted(key, key=lambda v: tuple(int(x) for x in re.split(r"[._]", v)))


def folder_of(tmp_path: Path, name: str, files: list[str]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for f in files:
        (folder / f).write_text("SELECT 1;\n")
    return folder


@pytest.mark.parametrize(("files", "first"), [
    (["V1__init.sql", "V2__add_booking.sql"], "3"),
    (["V001__init.sql", "V009__hand.sql"], "010"),
    (["V1_1__init.sql", "V1_2__hand.sql", "R__views.sql"], "1_3"),     # R__: repeatable, no version
    (["V9__init.sql", "V10__hand.sql"], "11"),      # 10 after 9: numbers, not names
])
def test_flyway_sequence_takes_the_next_numbers(conn: psycopg.Connection[Any], tmp_path: Path, files: list[str],
                                                first: str) -> None:
    m = migration(conn, tmp_path)
    folder = folder_of(tmp_path, "db", files)
    plan.write_layout(m, folder, plan.Layout.FLYWAY)
    ours = versions(folder, FLYWAY, ours=True)
    head, last = re.fullmatch(r"(.*?)(\d+)", first).groups()     # type: ignore[union-attr]
    # Without the fix: ['2026…_01', '2026…_02', …], a timestamp and the phase's number.
    assert ours == [f"{head}{int(last) + i:0{len(last)}d}" for i in range(len(m.phases))], ours
    assert all((folder / f).read_text() == "SELECT 1;\n" for f in files)
    assert all((folder / f"{p.name}.conf").exists() for p in folder.glob("V*pgtune*.sql")), sorted(folder.iterdir())


@pytest.mark.parametrize(("files", "first"), [
    (["000001_init", "000002_add_booking"], "000003"),
    (["1_init", "9_hand"], "10"),
    (["1700000000_init", "1700000100_hand"], "1700000101"),    # unix seconds (migrate create -format unix)
])
def test_golang_migrate_sequence_takes_the_next_numbers(conn: psycopg.Connection[Any], tmp_path: Path,
                                                        files: list[str], first: str) -> None:
    m = migration(conn, tmp_path)
    folder = folder_of(tmp_path, "migrations", [f"{f}.{way}.sql" for f in files for way in ("up", "down")])
    plan.write_layout(m, folder, plan.Layout.GOLANG_MIGRATE)
    ours = versions(folder, GOLANG, ours=True)
    assert len(ours) > 1, ours
    # Without the fix: 14-digit stamps a second apart.
    assert ours == [f"{int(first) + i:0{len(first)}d}" for i in range(len(ours))], ours
    downs = {p.name.removesuffix(".down.sql") for p in folder.glob("*pgtune*.down.sql")}
    assert downs == {p.name.removesuffix(".up.sql") for p in folder.glob("*pgtune*.up.sql")}
    # migrate create -seq numbers the next after the last file listed (by name): pgtune's last where the widths
    # agree, so the team's follows it. Unpadded, 9_ lists after 10_: the scheme's own trouble past 9, as for theirs.
    listed_last = sorted(p.name for p in folder.glob("*.up.sql"))[-1]
    assert len(first) != len(files[-1].split("_")[0]) or listed_last.startswith(ours[-1] + "_"), listed_last


def test_a_timestamped_folder_keeps_timestamps(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = migration(conn, tmp_path)
    golang = folder_of(tmp_path, "go", ["20240101000000_init.up.sql", "20240101000000_init.down.sql"])
    plan.write_layout(m, golang, plan.Layout.GOLANG_MIGRATE)
    ours = versions(golang, GOLANG, ours=True)
    assert all(len(v) == 14 and v > "20240101000000" for v in ours), ours
    flyway = folder_of(tmp_path, "fly", ["V20240101000000__init.sql"])
    plan.write_layout(m, flyway, plan.Layout.FLYWAY)
    assert all(re.fullmatch(r"\d{14}_\d\d", v) for v in versions(flyway, FLYWAY, ours=True)), list(flyway.iterdir())
    # pgtune's own stamped Flyway versions on top (V<stamp>_04): the next migration takes a stamp, not <stamp>_05.
    before = set(versions(flyway, FLYWAY, ours=True))
    plan.write_layout(m, flyway, plan.Layout.FLYWAY, now=datetime(2030, 1, 1, tzinfo=UTC))
    again = sorted(set(versions(flyway, FLYWAY, ours=True)) - before)
    assert again and all(re.fullmatch(r"\d{14}_\d\d", v) and v > max(before) for v in again), again
    assert again[0].endswith("_01") and {v[:14] for v in again}.isdisjoint(v[:14] for v in before), again


def test_the_cli_numbers_a_flyway_folder(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    workload(conn)
    folder = folder_of(tmp_path, "db", ["V1__init.sql", "V2__hand.sql"])
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--emit", str(folder), "--layout", "flyway"])
    assert out.exit_code == 0, out.output
    ours = versions(folder, FLYWAY, ours=True)
    assert ours and ours[0] == "3" and ours == [str(3 + i) for i in range(len(ours))], ours
    assert all((folder / f"V{v}__{n}.sql.conf").exists() for v in ours
               for n in [p.name.split("__", 1)[1].removesuffix(".sql") for p in folder.glob(f"V{v}__*.sql")]), ours
