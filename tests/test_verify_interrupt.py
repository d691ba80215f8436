"""Ctrl-C during `pgtune verify --measure`, at each pipeline psycopg closes: one line, exit 130, nothing else (c20).

A SIGINT that arrives while psycopg ends a pipeline (Pipeline.__exit__ reading its results) leaves libpq in pipeline
mode with psycopg's pipeline gone; psycopg's own exit then raises "cannot exit pipeline mode with uncollected
results" in the interrupt's place, an ordinary psycopg.Error that pgtune's per-statement handling took for one
statement's failure and went on. The next statement on the session failed ("PQsendQuery not allowed in pipeline
mode", "the last operation didn't produce records"), reported as a lost connection, exit 2: about 1 run in 100 with
a SIGINT at a random point (_thread.interrupt_main), every run with it at such a point.
"""

from __future__ import annotations

import _thread
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune import api
from pgtune.cli import cli

from .helpers import steady_state


def _ctrl_c_at(n: int) -> Any:
    """A trace function that sends SIGINT (as Ctrl-C does: the Python handler runs in the main thread right after)
    when psycopg starts ending a pipeline the ``n``-th time."""
    seen = [0]

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "call" and frame.f_code.co_name == "_exit_gen" and "psycopg" in frame.f_code.co_filename:
            seen[0] += 1
            if seen[0] == n:
                _thread.interrupt_main()
        return None
    return trace, seen


def test_ctrl_c_as_a_pipeline_ends_is_one_clean_line(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute("CREATE TABLE archive (id bigint PRIMARY KEY, owner int NOT NULL, body text)")
    conn.execute("INSERT INTO archive SELECT g, g % 1000, 'r' || g FROM generate_series(1, 50000) g")
    conn.execute("ANALYZE archive")
    steady_state(conn)
    with psycopg.connect(db, autocommit=True) as app:
        for i in range(20):
            app.execute("SELECT id, body FROM archive WHERE owner = %s", (i,), prepare=True).fetchall()
            app.execute("SELECT count(*) FROM archive WHERE owner = %s AND id > %s", (i, i), prepare=True).fetchall()
    folder = tmp_path / "mig"
    api.suggest(conn, api.SuggestOptions(constraints=False), emit=api.EmitOptions(directory=folder))
    api.apply(conn, folder)
    runs = []
    n = 1
    while True:
        trace, seen = _ctrl_c_at(n)
        sys.settrace(trace)
        try:
            ran = CliRunner().invoke(cli, ["verify", str(folder), "--measure", "--dsn", db], prog_name="pgtune")
        finally:
            sys.settrace(None)
        if seen[0] < n:          # no n-th pipeline: a whole run, not interrupted
            assert ran.exit_code in (0, 1), ran.output
            break
        runs.append((n, ran.exit_code, ran.stderr))
        assert ran.exit_code == 130 and ran.stderr == "pgtune: interrupted\n", runs[-1]
        n += 1
    assert len(runs) >= 3, runs       # measuring ends several pipelines
    # The server is left with no session of pgtune's in a transaction or a query.
    left = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() AND state <> 'idle'").fetchone()
    assert left == (0,)
