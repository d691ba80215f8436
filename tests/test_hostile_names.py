"""Hostile identifiers through the whole loop: suggest → emit → squawk → apply → verify → rollback.

Every name below is a table *and* a column *and* the stem of an enum-like
and a counter column; the schema must round-trip (pg_dump before == after
rollback) and nothing pgtune did not create may change.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner
from psycopg import sql

from pgtune.cli import cli
from pgtune.cluster import find_bindir

from .test_migration import squawk_bin

HOSTILE = [
    "flag\nDROP TABLE victim; --",
    "dash--dash",
    "star*/slash/*",
    'quote"double',
    "quote'single",
    "back\\slash",
    "ctl\x01\x7fchar",
    "tab\tname\r",
    "l" * 63,                       # the longest name PostgreSQL keeps
    "é" * 31 + "x",                 # 63 bytes of multi-byte characters; HypoPG's name for an index on it
    "x" + "é" * 31,                 # is cut inside a character by one of these two (test_whatif_names)
    "ünïcødé_名前",
    "order",
    "select",
    "user",
]


def _dump(db: str) -> str:
    out = subprocess.run([str(find_bindir() / "pg_dump"), "--schema-only", "--exclude-schema=pgtune", "-d", db],
                         capture_output=True, text=True, check=True).stdout
    return "\n".join(line for line in out.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))


def _fingerprint(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    """The canary's data and every object pgtune did not create."""
    rows = conn.execute("SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM canary AS c").fetchall()
    rows += conn.execute("SELECT indexrelid::regclass::text, indisvalid FROM pg_index "
                         "WHERE indrelid = 'canary'::regclass ORDER BY 1").fetchall()
    rows += conn.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                         "WHERE conrelid = 'canary'::regclass ORDER BY 1").fetchall()
    return rows


def _stem(name: str) -> str:
    """A prefix of ``name`` short enough (40 bytes) that a suffix still fits in 63."""
    while len(name.encode()) > 40:
        name = name[:-1]
    return name


def _load(conn: psycopg.Connection[Any]) -> str:
    conn.execute("CREATE TABLE victim (id int)")
    conn.execute("CREATE TABLE canary (id int PRIMARY KEY, v int, s text CHECK (s <> ''))")
    conn.execute("CREATE INDEX canary_v_idx ON canary (v)")
    conn.execute("INSERT INTO canary SELECT g, g % 7, 'x' || g FROM generate_series(1, 1000) g")
    queries = []
    for name in HOSTILE:
        t = sql.Identifier(name)
        c = sql.Identifier(name)
        status = sql.Identifier(_stem(name) + "_status")
        count = sql.Identifier(_stem(name) + "_count")
        conn.execute(sql.SQL("CREATE TABLE {t} (id int PRIMARY KEY, {c} int, {status} text, {count} int)").format(
            t=t, c=c, status=status, count=count))
        conn.execute(sql.SQL("INSERT INTO {t} SELECT g, g % 5000, (ARRAY['new', 'it''s', 'back\\slash'])[1 + g % 3], "
                             "g % 10 FROM generate_series(1, 20000) g").format(t=t))
        queries.append(sql.SQL("SELECT id FROM {t} WHERE {c} = 42;").format(t=t, c=c).as_string(conn))
    conn.execute("ANALYZE")
    return "\n".join(queries) + "\n"


def test_hostile_names_round_trip_through_the_whole_loop(db: str, conn: psycopg.Connection[Any],
                                                          tmp_path: Path) -> None:
    queries = tmp_path / "workload.sql"
    queries.write_text(_load(conn))
    before, canary = _dump(db), _fingerprint(conn)
    folder = tmp_path / "mig"

    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(queries), "--emit", str(folder),
                                      "--format", "json", "--exclude", "canary", "--constraints"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count('"ddl": "CREATE INDEX') == len(HOSTILE), result.stdout[:3000]
    scripts = sorted(folder.glob("*.sql"))
    assert any("ADD CONSTRAINT" in p.read_text() for p in scripts)        # constraints were proposed too
    squawk = subprocess.run([squawk_bin(), *map(str, scripts)], capture_output=True, text=True)
    assert squawk.returncode == 0, squawk.stdout + squawk.stderr

    applied = CliRunner().invoke(cli, ["apply", str(folder), "--dsn", db])
    assert applied.exit_code == 0, applied.output
    assert CliRunner().invoke(cli, ["status", str(folder), "--dsn", db]).exit_code == 0
    verified = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db])
    assert verified.exit_code == 0, verified.output
    advice = json.loads(result.stdout)
    assert {ix["table"] for ix in advice["indexes"]} == set(HOSTILE)
    names = {ix["name"] for ix in advice["indexes"]}
    existing = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes").fetchall()}
    assert names <= existing                  # built under exactly the names planned (no silent truncation)
    assert all(len(n.encode()) <= 63 and not any(ch in n for ch in "\n\r\t\x01\x7f") for n in names), names
    assert _fingerprint(conn) == canary
    assert conn.execute("SELECT to_regclass('victim') IS NOT NULL").fetchone() == (True,)

    rolled = CliRunner().invoke(cli, ["rollback", str(folder), "--dsn", db])
    assert rolled.exit_code == 0, rolled.output
    assert _dump(db) == before
    assert _fingerprint(conn) == canary
