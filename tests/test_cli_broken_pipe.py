"""``pgtune suggest … | head -1``: the reader closing the pipe ends pgtune quietly, exit 0 (c19).

A shell pipeline whose reader has what it wants (``head``, ``grep -q``, a pager quit early) closes its end;
pgtune's next write failed with BrokenPipeError and was reported as an internal error, exit 1, with Python's
'Exception ignored … BrokenPipeError' after it: the pipeline failed under ``set -o pipefail``. A command-line
tool ends quietly there, as cat, grep and psql do.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from .helpers import shop


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_a_closed_pipe_ends_suggest_quietly(db: str, conn: psycopg.Connection[Any], tmp_path: Path,
                                            fmt: str) -> None:
    shop(conn)
    queries = tmp_path / "q.sql"
    queries.write_text("".join(f'SELECT id FROM "order" WHERE "userId" = {k} AND status = \'paid\';\n'
                               f"SELECT id FROM users WHERE email = 'u{k}@example.com';\n" for k in range(3)))
    proc = subprocess.Popen([sys.executable, "-m", "pgtune", "suggest", "--dsn", db, "--queries", str(queries),
                             "--format", fmt, "--no-constraints"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()             # the reader is gone before pgtune writes a line (head -1 after its line)
    err = proc.stderr.read()
    assert proc.wait(timeout=300) == 0, err
    # stderr is a pipe: a log, where each phase's start and end are said (v39); nothing else.
    assert all(re.fullmatch(r"pgtune: \[\d+\.\d s\] .+", line) for line in err.splitlines()), err
    assert "rror" not in err and "Traceback" not in err, err
