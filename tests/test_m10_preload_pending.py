"""The fix that adds pgtune's libraries to shared_preload_libraries (check's problem line, config's proposal)
on a server where an ALTER SYSTEM of that list waits for the restart (m10, LOW). Both built the list from the
one in force, so the fix replaced the pending value and the restart lost what the DBA had added; and both split
the list at every comma, so a quoted library name holding one became two. A server of this module's own: the
tests write postgresql.auto.conf (and never restart)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from pgtune import capabilities, catalog_sql, ddl
from pgtune.cluster import LocalCluster
from pgtune.config import extensions, hardware, statements
from pgtune.config.context import Context
from pgtune.config.evidence import capture

PENDING = "ALTER SYSTEM SET shared_preload_libraries = 'auto_explain', 'my,lib'"


@pytest.fixture(scope="module")
def bare() -> Iterator[str]:
    cluster = LocalCluster(settings={"shared_preload_libraries": "''"}).start()
    try:
        yield cluster.dsn
    finally:
        cluster.stop()


@pytest.fixture
def pending(bare: str) -> Iterator[psycopg.Connection[Any]]:
    """pg_stat_statements not loaded; the DBA's ALTER SYSTEM (a library whose name holds a comma) not in force."""
    with psycopg.connect(bare, autocommit=True) as conn:
        conn.execute(PENDING)
        conn.execute("SELECT pg_reload_conf()")
        try:
            yield conn
        finally:
            conn.execute("ALTER SYSTEM RESET shared_preload_libraries")
            conn.execute("SELECT pg_reload_conf()")


def _after_restart(conn: psycopg.Connection[Any]) -> list[str]:
    """The libraries the restart would load, as PostgreSQL reads its configuration files."""
    row = conn.execute(catalog_sql.load("preload_pending")).fetchone()
    assert row is not None
    return ddl.setting_list(row[0])


def test_the_pending_list_is_read_as_postgresql_reads_it(pending: psycopg.Connection[Any]) -> None:
    assert _after_restart(pending) == ["auto_explain", "my,lib"]
    assert pending.execute("SHOW shared_preload_libraries").fetchone() == ("",)


def test_checks_fix_adds_to_the_pending_list(pending: psycopg.Connection[Any]) -> None:
    caps = capabilities.probe(pending)
    [problem] = [x for x in caps.problems() if x.startswith("pg_stat_statements is not loaded")]
    found = re.search(r"\((ALTER SYSTEM .*)\), restart", problem)
    assert found is not None, problem
    pending.execute(found.group(1))
    assert _after_restart(pending) == ["auto_explain", "my,lib", "pg_stat_statements"]


def test_configs_proposal_adds_to_the_pending_list(pending: psycopg.Connection[Any]) -> None:
    snap = capture(pending)
    ctx = Context(snap, hardware.Hardware())
    extensions.propose(ctx)
    [p] = [x for x in ctx.proposals if x.setting == "shared_preload_libraries"]
    assert p.evidence["pending"] == 'auto_explain, "my,lib"'
    pending.execute(statements.alter_system(p.setting, p.value))
    qualstats = ["pg_qualstats"] if "pg_qualstats" in snap.available else []
    assert _after_restart(pending) == ["auto_explain", "my,lib", "pg_stat_statements", *qualstats]


def test_a_quoted_name_stays_one_constant() -> None:
    assert statements.alter_system("shared_preload_libraries", 'auto_explain, "my,lib"') == \
        "ALTER SYSTEM SET shared_preload_libraries TO 'auto_explain', 'my,lib'"



def test_checks_fix_for_two_libraries_names_two(bare: str) -> None:
    """One constant 'a,b' is stored as one library named "a,b" (the list quotes each constant): the server
    would not start after the restart. Each library is a constant of its own."""
    with psycopg.connect(bare, autocommit=True) as conn:
        try:
            conn.execute(capabilities.probe(conn).preload_fix("pg_stat_statements", "pg_qualstats"))
            assert _after_restart(conn) == ["pg_stat_statements", "pg_qualstats"]
        finally:
            conn.execute("ALTER SYSTEM RESET shared_preload_libraries")
