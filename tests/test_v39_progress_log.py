"""Progress in a log: stderr a file (CI, `2>file`) gets a plain line as each phase starts and ends (n38, LOW).

Progress went to stderr only on a terminal: `pgtune apply … 2>apply.log` in CI wrote nothing while an index
built for minutes, and the DBA tailing the log could not tell a long build from a hung job. Now each phase
gets a start line and an end line with seconds, no carriage return, no colour. The pgtune command runs here
as the DBA runs it (a process of its own, stderr a file): in-process capture (CliRunner) stays silent.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg

from .test_migration import emit

LINE = re.compile(r"pgtune: \[(\d+\.\d) s\] (.+?)(?:: (done|stopped) in (\d+\.\d) s)?")


def logged(args: list[str], log: Path) -> tuple[int, list[str]]:
    env = {**os.environ, "NO_COLOR": "1"}
    with log.open("w") as err:
        done = subprocess.run([sys.executable, "-m", "pgtune", *args], stdout=subprocess.PIPE, stderr=err,
                              env=env, timeout=300)
    text = log.read_text()
    assert "\r" not in text and "\x1b" not in text, repr(text)
    return done.returncode, text.splitlines()


def test_apply_and_rollback_log_each_phase_start_and_end(db: str, conn: psycopg.Connection[Any],
                                                          tmp_path: Path) -> None:
    folder = tmp_path / "mig"
    m = emit(conn, folder)
    code, lines = logged(["apply", str(folder), "--dsn", db], tmp_path / "apply.log")
    assert code == 0, lines
    # Without the fix: an empty log.
    parsed = [LINE.fullmatch(line) for line in lines]
    assert lines and all(parsed), lines
    starts = [p.group(2) for p in parsed if p and p.group(3) is None]
    ends = [p.group(2) for p in parsed if p and p.group(3) == "done"]
    assert starts == ends, lines               # each phase started is ended, in order
    assert [f"phase {p.number} up: {p.name}" for p in m.phases] == [s for s in starts if s.startswith("phase ")]
    at = [float(p.group(1)) for p in parsed if p]
    assert at == sorted(at), lines             # seconds since the command began, never back
    code, lines = logged(["rollback", str(folder), "--dsn", db], tmp_path / "rollback.log")
    assert code == 0 and any(line.endswith(" s") and "down" in line for line in lines), lines
