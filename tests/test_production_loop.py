"""Issue 24's "Must show", end to end on the production-shaped database (tests/production.py).

suggest → emit → apply → status → verify → rollback, and health → health --emit
→ apply → status → rollback, through the CLI, each with exit 0, every index
built valid (the partitioned ones too, the fixture's half-finished ON ONLY index
completed by health) after apply, and ``pg_dump --schema-only`` identical after
each rollback; a partition created after apply gets the indexes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result

from pgtune import api
from pgtune.cli import cli

from . import production
from .production import Part
from .test_hostile_names import _dump

pytestmark = pytest.mark.needs_hypopg

FIXTURE_INVALID = "app.\"events_documentId_idx\""     # the fixture's own half-finished ON ONLY index


def pgtune(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def ok(result: Result) -> Result:
    assert result.exit_code == 0, f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}\n{result.exception!r}"
    return result


def invalid_partitioned(conn: psycopg.Connection[Any]) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relkind = 'I' AND NOT i.indisvalid")}


def index_states(conn: psycopg.Connection[Any], schema: str, names: list[str]) -> dict[str, tuple[str, bool]]:
    """name -> (relkind, indisvalid) of each index that exists."""
    rows = conn.execute("SELECT c.relname, c.relkind::text, i.indisvalid FROM pg_class c "
                        "JOIN pg_index i ON i.indexrelid = c.oid "
                        "WHERE c.relnamespace = %s::regnamespace AND c.relname = ANY(%s)",
                        (psycopg.sql.Identifier(schema).as_string(conn), names)).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


# ---- suggest → emit → apply → status → verify → rollback ----------------------------------------------

def test_suggest_emit_apply_status_verify_rollback_each_exit_0(db: str, conn: psycopg.Connection[Any],
                                                               tmp_path: Path) -> None:
    prod = production.build(db)
    production.workload(prod)
    before = _dump(db)
    folder = tmp_path / "suggest"
    out = ok(pgtune("suggest", "--dsn", db, "--format", "json", "--emit", str(folder)))
    advice = json.loads(out.stdout)
    built = advice["indexes"]
    assert built, "no index proposed on the production fixture"
    ok(pgtune("apply", str(folder), "--dsn", db))
    for schema in {ix["schema"] for ix in built}:
        names = [ix["name"] for ix in built if ix["schema"] == schema]
        states = index_states(conn, schema, names)
        assert set(states) == set(names), f"not built: {set(names) - set(states)}"
        assert all(valid for _kind, valid in states.values()), states
    assert invalid_partitioned(conn) <= {FIXTURE_INVALID}
    ok(pgtune("status", str(folder), "--dsn", db))
    ok(pgtune("verify", str(folder), "--dsn", db))
    ok(pgtune("rollback", str(folder), "--dsn", db))
    assert _dump(db) == before


# ---- health → health --emit → apply → rollback -------------------------------------------------------

def test_health_emit_apply_rollback_each_exit_0(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    prod = production.build(db)
    production.workload(prod)
    before = _dump(db)
    report = json.loads(ok(pgtune("health", "--dsn", db, "--format", "json", "--fail-on", "never",
                                  "--min-stats-age", "0")).stdout)
    # Judged at the parent: no finding is about a partition, a partition's attached index or a foreign key's
    # per-partition clone (its evidence and fix may well list the partitions it touches).
    partitions = {r[0] for r in conn.execute(
        "SELECT c.relname FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid WHERE c.relkind IN ('r', 'p')")}
    attached = {r[0] for r in conn.execute(
        "SELECT c.relname FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid WHERE c.relkind IN ('i', 'I')")}
    clones = {r[0] for r in conn.execute(
        "SELECT c.conname FROM pg_constraint c JOIN pg_constraint p ON p.oid = c.conparentid "
        "WHERE c.contype = 'f' AND c.conname <> p.conname")}
    assert partitions and attached and clones
    for f in report["findings"]:
        assert f["table"] not in partitions and f["index"] not in attached, f
        assert f["evidence"].get("constraint") not in clones, f
        assert not [c for c in clones if re.search(rf"(?<!\w){re.escape(c)}(?!\w)", f["message"])], f
    foreign_keys = [f["evidence"]["constraint"] for f in report["findings"]
                    if f["check"] == "foreign-key-without-index"]
    assert len(foreign_keys) == len(set(foreign_keys)), foreign_keys         # one finding per foreign key
    folder = tmp_path / "health"
    ok(pgtune("health", "--dsn", db, "--fail-on", "never", "--min-stats-age", "0", "--emit", str(folder)))
    ok(pgtune("apply", str(folder), "--dsn", db))
    assert invalid_partitioned(conn) == set()         # the fixture's ON ONLY index is fixed too
    ok(pgtune("status", str(folder), "--dsn", db))
    ok(pgtune("rollback", str(folder), "--dsn", db))
    assert _dump(db) == before


# ---- partitions --------------------------------------------------------------------------------------

def test_a_partition_created_after_apply_gets_the_indexes(db: str, conn: psycopg.Connection[Any],
                                                          tmp_path: Path) -> None:
    production.workload(production.build(db), parts=(Part.EVENTS, Part.NOTIFICATIONS))
    result = api.suggest(conn, api.SuggestOptions(constraints=False), emit=api.EmitOptions(directory=tmp_path / "m"))
    api.apply(conn, tmp_path / "m")
    on_events = [ix.name for ix in result.indexes.indexes if ix.schema == "app" and ix.table == "events"]
    assert on_events, result.indexes.indexes
    assert all(kind == "I" and valid for kind, valid in index_states(conn, "app", on_events).values())
    month = production.add_month(conn, months_ahead=2)
    attached = {r[0] for r in conn.execute(
        "SELECT p.relname FROM pg_inherits h JOIN pg_class p ON p.oid = h.inhparent "
        "JOIN pg_index i ON i.indexrelid = h.inhrelid WHERE i.indrelid = %s::regclass",
        (f"app.{month}",))}
    assert set(on_events) <= attached
    assert all(valid for _kind, valid in index_states(conn, "app", on_events).values())
    assert api.verify(conn, tmp_path / "m").ok
