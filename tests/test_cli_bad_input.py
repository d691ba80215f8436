"""Bad input a new user gives: one line on stderr, exit 2, nothing on stdout, no traceback (u18)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from pgtune.cli import cli

NOWHERE = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}


@pytest.mark.parametrize(("args", "words"), [
    (["suggest", "--format", "xml"], "Invalid value for '--format': 'xml' is not one of 'table', 'json'"),
    (["check", "--nosuch"], "No such option '--nosuch'"),
    (["health", "extra"], "Got unexpected extra argument (extra)"),
    (["apply"], "Missing argument 'DIRECTORY' (usage: pgtune apply [OPTIONS] DIRECTORY; pgtune apply -h for help)"),
    (["nosuchcommand"], "No such command 'nosuchcommand'"),
    (["suggest", "--layout", "flyway"], "--layout needs --emit DIR"),
    (["config", "--memory", "10XB"], "'10XB' is not a size"),
    (["suggest", "--queries", "/nonexistent/slow.sql"], "'/nonexistent/slow.sql': No such file or directory"),
])
def test_a_usage_error_is_one_line(args: list[str], words: str) -> None:
    """p17: click printed three lines (its usage, "Try ... for help." and the error last)."""
    result = CliRunner().invoke(cli, args, env=NOWHERE, prog_name="pgtune")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("pgtune: ") and words in lines[0], result.stderr
    assert "-h for help)" in lines[0]


@pytest.mark.parametrize("command", ["status", "apply", "rollback", "verify"])
def test_a_short_password_is_not_masked_in_a_folders_path(command: str, db: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """p16: with the password "p16", "/tmp/p16/*** is not a pgtune migration folder" (the server here trusts
    local logins: the password is given, not checked)."""
    folder = tmp_path / "p16"
    folder.mkdir()
    result = CliRunner().invoke(cli, [command, str(folder)], env={"DATABASE_URL": f"{db} password=p16"})
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"pgtune: {folder} is not a pgtune migration folder (no manifest.json)"]


def test_a_password_is_masked_where_it_stands_as_one_only() -> None:
    from pgtune.connect import redact
    # A password that is also the user's name: "***" there told the password (and hid the user).
    said = 'cannot connect to postgres@db:5432/postgres: FATAL: password authentication failed for user "postgres"'
    assert redact(said, "postgresql://postgres:postgres@db/postgres") == said
    assert redact("(postgresql://a:b%40c@h/x) (host=h password = 'p w')", "") == (
        "(postgresql://a:***@h/x) (host=h password = ***)")         # another DSN's, unknown: masked too
    assert redact("x postgresql://u:pa)ss@h/db y", "postgresql://u:pa)ss@h/db") == "x postgresql://u:***@h/db y"
    assert redact("x host=a password=reader2 y", "password=reader") == "x host=a password=*** y"


def test_an_exclude_naming_no_table_is_refused_before_any_work(db: str, conn) -> None:  # type: ignore[no-untyped-def]
    """p17: suggest --exclude nosuchtable exited 0 without a word: a typo read as "nothing to exclude"."""
    conn.execute("CREATE TABLE orders (id int, customer int); CREATE TABLE audit_log (id int)")
    query = "SELECT id FROM orders WHERE customer = 7;"
    args = ["suggest", "--dsn", db, "--queries", "-", "--min-rows", "0", "--no-constraints"]
    typo = CliRunner().invoke(cli, [*args, "--exclude", "Orders"], input=query)
    assert typo.exit_code == 2 and typo.stdout == ""
    assert typo.stderr.splitlines() == [
        f"pgtune: --exclude Orders names no table or view of database {conn.info.dbname}: did you mean orders?"]
    unread = CliRunner().invoke(cli, [*args, "--exclude", "audit_log", "--exclude", "public.orders"], input=query)
    assert unread.exit_code == 0, unread.stderr
    assert "note: --exclude audit_log: no statement analyzed reads it" in unread.stderr.splitlines()
    assert "public.orders" not in unread.stderr and "excluded table public.orders" in unread.stdout


def test_queries_from_a_closed_or_empty_standard_input_is_one_line(db: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """u18: a closed stdin was "internal error (RuntimeError ...)", exit 1; an empty one said "pg_stat_statements
    holds none of this database's workload yet", exit 0."""
    closed = subprocess.run([sys.executable, "-m", "pgtune", "suggest", "--dsn", db, "--queries", "-"],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                            preexec_fn=lambda: os.close(0))
    assert closed.returncode == 2 and closed.stdout == ""
    assert closed.stderr.splitlines() == [
        "pgtune: --queries -: standard input is closed: give a file, or pipe the statements in"], closed.stderr
    empty = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", "-"], input="")
    assert empty.exit_code == 2 and empty.stdout == ""
    assert empty.stderr.splitlines() == ["pgtune: --queries -: standard input held no SQL statement"]
    (tmp_path / "slow.sql").write_text("")
    file = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(tmp_path / "slow.sql")])
    assert file.exit_code == 2 and file.stderr.splitlines() == [
        f"pgtune: --queries {tmp_path / 'slow.sql'}: no SQL statement in it"]


def test_a_closed_standard_output_is_one_line_before_any_work(db: str) -> None:
    """u18: suggest with stdout closed (>&-) printed its report nowhere and exited 0."""
    closed = subprocess.run([sys.executable, "-m", "pgtune", "suggest", "--dsn", db, "--format", "json"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=120,
                            preexec_fn=lambda: os.close(1))
    assert closed.returncode == 2
    assert closed.stderr.splitlines() == ["pgtune: standard output is closed, where pgtune writes its report: "
                                          "redirect it (> file, or > /dev/null)"], closed.stderr


@pytest.mark.parametrize(("query", "line"), [
    ("DROP TABLE t", "pgtune: --query takes a SELECT, INSERT, UPDATE or DELETE (what EXPLAIN plans), not DROP"),
    ("SELEC 1", 'pgtune: --query is not one SQL statement: unparsable: syntax error at or near "SELEC", at index 0'),
    ("SELECT 1; DROP TABLE t", "pgtune: --query is not one SQL statement: expected one statement, found 2"),
])
def test_a_query_verify_cannot_plan_is_a_usage_error(query: str, line: str, db: str, conn) -> None:  # type: ignore[no-untyped-def]
    """u18: a typo, two statements or DDL given to verify --query was a FAIL row, exit 1 (a check failed)."""
    conn.execute("CREATE TABLE t (id int)")
    result = CliRunner().invoke(cli, ["verify", "--dsn", db, "--query", query])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [line]
    assert conn.execute("SELECT to_regclass('t') IS NOT NULL").fetchone() == (True,)
    fine = CliRunner().invoke(cli, ["verify", "--dsn", db, "--query", "EXPLAIN SELECT id FROM t WHERE id = 1"])
    assert fine.exit_code == 0, fine.output


@pytest.mark.parametrize(("dsn", "env", "port"), [
    ("postgresql://u:pw@localhost:abc/db", {}, "abc"),
    ("host=localhost port=99999", {}, "99999"),
    ("host=localhost", {"PGPORT": "5432x"}, "5432x"),
])
def test_a_port_that_is_not_a_number_is_said_so(dsn: str, env: dict[str, str], port: str) -> None:
    """u18: "failed to resolve host 'localhost': [Errno -8] Servname not supported for ai_socktype"."""
    result = CliRunner().invoke(cli, ["check", "--dsn", dsn], env=env)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].endswith(f"the port {port!r} is not a port number (1 to 65535)"), lines
    assert "pw" not in result.stderr


@pytest.mark.parametrize("command", ["suggest", "health", "config"])
def test_emit_into_a_folder_holding_other_files_is_refused_before_any_work(command: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """u18: pgtune's layout wrote 01_up.sql… among a folder's own files, over someone's own 01_up.sql."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "01_up.sql").write_text("-- mine\n")
    result = CliRunner().invoke(cli, [command, "--emit", str(folder)], env=NOWHERE)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"pgtune: {folder} already holds other files (01_up.sql): pgtune's migration is a folder of its own; "
        "choose a new or empty --emit folder"
        + (", or --layout flyway / golang-migrate / prisma to add to your tool's" if command != "config" else "")]
    assert sorted(p.name for p in folder.iterdir()) == ["01_up.sql"]
    assert (folder / "01_up.sql").read_text() == "-- mine\n"


def test_health_with_every_check_skipped_is_a_usage_error(db: str) -> None:
    """u18: health --check invalid-index --skip invalid-index said "no problem found (0 checks)", exit 0."""
    result = CliRunner().invoke(cli, ["health", "--dsn", db, "--check", "invalid-index", "--skip", "invalid-index"],
                                prog_name="pgtune")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == ["pgtune: --skip leaves out every check --check names (invalid-index): "
                                          "none would run (pgtune health -h for help)"]
