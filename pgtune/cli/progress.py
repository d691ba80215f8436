"""Progress for a log: stderr a file or pipe (CI, `2>file`), where a terminal's `… msg` lines said nothing.

Each progress message starts a phase: one plain line when it starts, one when the next starts or the command
ends, each with the seconds since the command began, and the phase's own on its end line. No carriage return,
no colour: a DBA tailing the log sees what pgtune waits on and for how long (n38: minutes of silence). News of
the running phase (a build's percent from pg_stat_progress_create_index: a Tick) is a line of its own at most
every TICK_S seconds, so a CI log shows a long build alive without a line per percent (r40).
"""

from __future__ import annotations

import sys
import time

import click

from .._text import Tick

TICK_S = 10.0       # a log's news of the running phase: at most one line this often


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
        self.ticked = 0.0       # when the last line of news of the running phase was written

    def begin(self) -> None:
        """A command starts (one process may run several: tests, an embedding program)."""
        self.began, self.current = time.monotonic(), None

    def say(self, msg: str) -> None:
        """A progress message, in a log: news of the running phase (a Tick), or a phase starting."""
        if not isinstance(msg, Tick):
            self.start(msg)
            return
        now = time.monotonic()
        if now - max(self.ticked, self.current[1] if self.current else self.began) >= TICK_S:
            self.ticked = now
            click.echo(f"pgtune: [{now - self.began:.1f} s] {msg}", err=True)

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
