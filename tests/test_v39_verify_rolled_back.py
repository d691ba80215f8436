"""verify of a rolled-back migration passes; a role that cannot read the history is told so, exit 2 (n38, LOW).

A new user on a Cal.com-shaped database rolled a migration back on purpose, then ran verify: exit 1 and FAIL
rows (as the owner), or, as the application's role (no access to pgtune's history), FAIL rows with a note that
the phases' state is unreadable. A rollback is no failure: one line, exit 0 (JSON ``ok`` and ``rolled_back``
true, JUnit cases skipped). Without the history, a missing index cannot be told from a rolled-back one: one line
naming the grant, exit 2, nothing on stdout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import psycopg
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pgtune.apply import Applier
from pgtune.cli import cli

from .helpers import login_roles
from .test_migration import emit


def test_a_rolled_back_migration_is_no_failure(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    folder = tmp_path / "mig"
    m = emit(conn, folder)
    Applier(conn, folder).apply()
    Applier(conn, folder).rollback()
    report = tmp_path / "verify.xml"
    table = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db, "--junit", str(report)])
    # Without the fix: exit 1 (the rolled-back line, then a JUnit report of failures).
    assert table.exit_code == 0, table.output
    first, *notes = table.stdout.strip().splitlines()
    assert first.startswith(f"verify: migration {m.id} is rolled back") and "nothing to verify" in first, first
    assert "fail" not in table.stdout.lower(), table.stdout
    assert notes and all(n.startswith("note: phase") and "is rolled back" in n for n in notes), notes
    suite = ET.parse(report).getroot()
    assert suite.get("failures") == "0" and suite.get("skipped") == suite.get("tests") != "0", suite.attrib
    data = json.loads(CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db, "--format", "json"]).stdout)
    assert data["ok"] is True and data["rolled_back"] is True, data
    Applier(conn, folder).apply()
    again = json.loads(CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db, "--format", "json"]).stdout)
    assert again["ok"] is True and again["rolled_back"] is False, again


def test_a_role_without_the_history_gets_one_line_and_exit_2(db: str, conn: psycopg.Connection[Any],
                                                             tmp_path: Path) -> None:
    folder = tmp_path / "mig"
    m = emit(conn, folder)
    Applier(conn, folder).apply()
    with login_roles(conn, "app") as (me,):
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(sql.Identifier(me)))
        dsn = make_conninfo(db, user=me)
        ok = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", dsn])
        assert ok.exit_code == 0, ok.output        # every index in place: the history is not needed (r11)
        Applier(conn, folder).rollback()
        out = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", dsn])
        # Without the fix: exit 1, a table of FAIL rows and "is in a state this role cannot read" notes.
        assert out.exit_code == 2, out.output
        assert out.stdout == "", out.stdout
        (line,) = out.stderr.strip().splitlines()
        assert line.startswith(f"pgtune: cannot verify migration {m.id}") and "rolled back" in line, line
        assert 'GRANT USAGE ON SCHEMA "pgtune"' in line, line
        # USAGE on the schema but no SELECT on its tables: the same one line, not a traceback.
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA pgtune TO {}").format(sql.Identifier(me)))
        half = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", dsn, "--format", "json"])
        assert half.exit_code == 2 and half.stdout == "", half.output
        (line,) = half.stderr.strip().splitlines()
        assert line.startswith(f"pgtune: cannot verify migration {m.id}") and "permission denied" in line, line
