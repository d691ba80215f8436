"""The pgtune command prints nothing on stderr that pgtune did not write.

psycopg logs a pipeline's second error as a WARNING ("error ignored terminating
<psycopg.Pipeline ...>: pipeline aborted") when the first one is already being
handled. pgtune handles it (what-if batches fall back statement by statement),
but with no logging configured Python's last-resort handler printed the line
on the user's terminal during every TPC-H suggest (t5).
"""

from __future__ import annotations

import subprocess
import sys

PIPELINE_FAILS = """
import sys
import psycopg
import pgtune.cli  # noqa: F401  (what the pgtune command imports first)

conn = psycopg.connect(sys.argv[1], autocommit=True)
try:
    with conn.pipeline():
        with conn.cursor() as cur:
            cur.execute("SELECT 1/0")
            cur.execute("SELECT 1")
        raise ValueError("handled by the caller")     # as pgtune's batches stop on a value they refuse
except (psycopg.Error, ValueError) as exc:
    print(type(exc).__name__)
"""


def test_a_handled_pipeline_error_leaves_stderr_empty(db: str) -> None:
    done = subprocess.run([sys.executable, "-c", PIPELINE_FAILS, db], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr
