"""Progress for a log: stderr a file or pipe (CI, `2>file`), where a terminal's `… msg` lines said nothing.

Each progress message starts a phase: one plain line when it starts, one when the next starts or the command
ends, each with the seconds since the command began, and the phase's own on its end line. No carriage return,
no colour: a DBA tailing the log sees what pgtune waits on and for how long (n38: minutes of silence).
"""

from __future__ import annotations

import sys
import time

import click


def stderr_is_log() -> bool:
    """stderr is a file or pipe the OS writes, not a terminal: a log. A stream captured in-process (click's
    CliRunner, a program embedding the command) has no file descriptor: that caller reads the report, and
    gets no progress, as before."""
    try:
        sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):      # io.UnsupportedOperation is both OSError and ValueError
        return False
    return not sys.stderr.isatty()


class Phases:
    """The phase running now, and when the command began."""

    def __init__(self) -> None:
        self.began = time.monotonic()
        self.current: tuple[str, float] | None = None

    def begin(self) -> None:
        """A command starts (one process may run several: tests, an embedding program)."""
        self.began, self.current = time.monotonic(), None

    def start(self, msg: str) -> None:
        now = time.monotonic()
        self.end(now=now)
        self.current = (msg, now)
        click.echo(f"pgtune: [{now - self.began:.1f} s] {msg}", err=True)

    def end(self, how: str = "done", now: float | None = None) -> None:
        """The running phase ends: ``how`` it ended (done; stopped, by an error or Ctrl-C) and in how long."""
        if self.current is None:
            return
        msg, since = self.current
        now = time.monotonic() if now is None else now
        self.current = None
        click.echo(f"pgtune: [{now - self.began:.1f} s] {msg}: {how} in {now - since:.1f} s", err=True)


PHASES = Phases()
