"""A usage error answers before the library loads (c20).

`pgtune suggest --format nope` printed its one line after importing every command's module and the whole
library (pgtune.api, analyze, plan, pglast…): about 1.3 s on an idle 2-core machine, 3 s under load. Commands now
load when they run, and their library once the options are parsed.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import click
import psycopg
from click.testing import CliRunner

from pgtune.cli import cli

from .helpers import shop

PROBE = """
import sys
from pgtune.cli import cli
try:
    cli.main({args!r}, prog_name="pgtune")
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in ("pgtune.api", "pgtune.analyze", "pgtune.plan", "pgtune.capture", "pgtune.health")
               if m in sys.modules)
print(code, heavy)
"""


def _probe(args: list[str]) -> tuple[str, str]:
    out = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True,
                         timeout=120)
    return out.stdout.strip(), out.stderr.strip()


def test_a_usage_error_loads_no_library(db: str, conn: psycopg.Connection[Any]) -> None:
    for args, said in [(["suggest", "--format", "nope"], "Invalid value for '--format'"),
                       (["suggest", "--top", "-5"], "--top"),
                       (["suggest", "--lock-timeout", "10s"], "--lock-timeout only shapes"),
                       (["verify", "--no-such-option"], "No such option"),
                       (["apply"], "Missing argument 'DIRECTORY'"),
                       (["check", "--format", "nope"], "Invalid value for '--format'"),
                       (["nope"], "No such command")]:
        out, err = _probe(args)
        assert out == "2 []", (args, out, err)
        assert err.startswith("pgtune: ") and said in err and len(err.splitlines()) == 1, (args, err)
    # A bad value of an option whose values are the library's own (a Severity, a Storage) reads them from it.
    for args, said in [(["health", "--fail-on", "nope"], "'nope' is not one of 'error', 'warning', 'info', 'never'"),
                       (["config", "--storage", "nope"], "'nope' is not one of 'ssd', 'hdd', 'san'")]:
        out, err = _probe(args)
        assert out.startswith("2 ") and err.startswith("pgtune: ") and said in err, (args, out, err)
    # With good options the command loads what it needs and runs, on a real server.
    shop(conn)
    ran = CliRunner().invoke(cli, ["suggest", "--queries", "-", "--dsn", db, "--format", "json", "--min-rows", "0"],
                             input='SELECT id FROM "order" WHERE "userId" = 7;', prog_name="pgtune")
    assert ran.exit_code == 0, ran.output
    assert '"indexes"' in ran.stdout


def test_a_lazy_choice_s_default_is_one_of_its_values() -> None:
    from pgtune.cli.shell import LazyChoice
    for command in ("suggest", "health", "config", "apply"):
        found = cli.get_command(click.Context(cli), command)
        assert found is not None
        for p in found.params:
            if isinstance(p.type, LazyChoice):
                assert p.default == p.type.default, (command, p.name)
                assert p.default is None or p.default in p.type.choices, (command, p.name)


def test_each_verdict_has_its_mark() -> None:
    from pgtune import api
    from pgtune.cli.verify import _VERDICT_MARK
    assert all(v in _VERDICT_MARK for v in api.Verdict)
