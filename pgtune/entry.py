"""The ``pgtune`` command's entry point: Ctrl-C while the program is still loading ends it quietly.

Importing the CLI (psycopg, pglast and every room) takes a moment, seconds
on a loaded host; a KeyboardInterrupt raised there would surface as a Python
traceback before any of pgtune's own error handling exists. Until the
import is done, SIGINT keeps the system's default action (the process ends,
status 130 from the shell, nothing printed); then Python's handler is back
and the commands handle Ctrl-C themselves.
"""

from __future__ import annotations

import signal


def main() -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_DFL)
    from pgtune.cli import cli
    signal.signal(signal.SIGINT, previous)
    cli()
