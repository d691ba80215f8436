"""Ctrl-C while pgtune is still loading ends it quietly (u's F11: a Python traceback, seconds into a loaded host).

The signal is delivered deterministically: an import hook sends SIGINT to the
process itself the moment ``pgtune.cli`` starts to be imported, which is
where a person's Ctrl-C lands while the command is loading.
"""

from __future__ import annotations

import signal
import subprocess
import sys

INTERRUPT_DURING_IMPORT = """
import importlib.abc, os, signal, sys

class Interrupt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "pgtune.cli":
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, Interrupt())
sys.argv = ["pgtune", "--help"]
from pgtune.entry import main
main()
"""


def test_ctrl_c_while_the_command_loads_prints_no_traceback() -> None:
    done = subprocess.run([sys.executable, "-c", INTERRUPT_DURING_IMPORT], capture_output=True, timeout=120)
    assert b"Traceback" not in done.stderr, done.stderr.decode()
    assert done.stderr == b"" and done.returncode == -signal.SIGINT, (done.returncode, done.stderr)
