"""One text, two queryids, one session: verify numbered the rows but named them after a session both share (p26).

psycopg sends a Python int as int2, int4 or int8 by its size, and pg_stat_statements keys a statement by its
parameters' types: the demo's `SELECT count(*) FROM likes WHERE "videoId" = $1` is two statements (39 and 21 calls),
both in search_path public. verify printed `select likes by videoId #d394ad [search_path public] #1` and `… #2`, as
if the session told them apart (README: two tenants' same text each name their session).
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from pgtune import api
from pgtune.capture import reset_counters
from pgtune.cli import cli


def _likes_read(db: str, values: list[int]) -> None:
    """A 100,000-row likes table, counters reset, then the application counting likes of each video in ``values``
    (psycopg sends a value under 32,768 as int2, above as int4: one text, a queryid per type)."""
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute('CREATE TABLE likes (id bigint PRIMARY KEY, "videoId" bigint NOT NULL)')
        conn.execute("INSERT INTO likes SELECT g, g % 50000 FROM generate_series(1, 100000) g")
        conn.execute("ANALYZE likes")
        reset_counters(conn)
    with psycopg.connect(db, autocommit=True) as app:
        for value in values:
            app.execute('SELECT count(*) FROM likes WHERE "videoId" = %s', (value,))


def test_same_text_in_one_session_is_numbered_not_named_after_the_session(db: str, tmp_path: Path) -> None:
    _likes_read(db, [*range(1, 30), *range(40000, 40030)])      # int2, then int4: two queryids
    with psycopg.connect(db, autocommit=True) as conn:
        ids = conn.execute("SELECT count(DISTINCT queryid) FROM pg_stat_statements WHERE query LIKE "
                           "'SELECT count(*) FROM likes%'").fetchone()
        assert ids == (2,), ids
        advice = api.suggest(conn, emit=api.EmitOptions(directory=tmp_path / "m", measure=False))
        assert advice.directory is not None
        api.apply(conn, advice.directory)
    result = CliRunner().invoke(cli, ["verify", str(advice.directory), "--dsn", db], catch_exceptions=False)
    assert result.exit_code == 0, result.stdout
    rows = [line for line in result.stdout.splitlines() if re.match(r"ok\s+-?\d+\s+select likes by videoId", line)]
    assert len(rows) == 2, result.stdout
    assert "[search_path" not in result.stdout, result.stdout
    assert all(" #1 " in r or " #2 " in r for r in rows), rows


def test_a_one_phase_migration_is_written_as_one_phase(db: str, tmp_path: Path) -> None:
    """`wrote migration … (1 phases) to …` on a fresh clone's one-index advice (p26)."""
    _likes_read(db, list(range(40000, 40030)))
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--emit", str(tmp_path / "m"), "--no-measure"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert re.search(r"wrote migration \S+ \(1 phase\) to ", result.stderr), result.stderr


@pytest.mark.needs_hypopg
def test_one_step_and_one_skipped_statement_are_singular(db: str, tmp_path: Path) -> None:
    """`selection: 1 steps`, `(1 statements) not costed`, `skipped 1 statements` on a two-line --queries file (p26)."""
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute('CREATE TABLE comments (id bigint PRIMARY KEY, "userId" bigint NOT NULL, body text)')
        conn.execute("INSERT INTO comments SELECT g, g % 50000, 'x' FROM generate_series(1, 100000) g")
        conn.execute("ANALYZE comments")
    queries = tmp_path / "slow.sql"
    queries.write_text('SELECT * FROM comments WHERE "userId" = 5;\nSELECT * FROM audit_log WHERE id = 1;\n')
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(queries)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "selection: 1 step (" in result.stdout, result.stdout
    assert "(1 statement) not costed" in result.stdout, result.stdout
    assert "skipped 1 statement (1 unknown-table)" in result.stdout, result.stdout
