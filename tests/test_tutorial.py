"""docs/tutorial.md, run as written: every command of its ```sh blocks, in order, against a real PostgreSQL.

The page is the script: the commands are parsed from it, so an edit to the page changes what runs here.
Each command must be in EXPECT (its exit code and the key lines the page promises) or in SKIPPED (with the
reason it cannot run here), and each entry there must still be on the page: a new command, a renamed flag
or a changed index name fails the test until the page and this list agree. Session 19 (u14) found the page's
rollback glob (`migrations/2*_demo`) matching nothing, a `verify --query` naming an index HypoPG's advice
does not build, and a psql `-U reporter` that a connection string silently overrides.

Step 1's demo is replaced by its own pieces at a smaller scale (schema, data, workload, its migration in
`<root>/migrations/demo`, applied), with the page's placeholder root replaced by the fixture's; the five-minute
`--window 300` runs as `--window 1`. The run holds on PostgreSQL 18 without HypoPG: what only a what-if
selection prints (`selection:`, the knee) is checked in the needs_hypopg test.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from pgtune import api
from pgtune.capture import reset_counters
from pgtune.cli import cli
from pgtune.cluster import LocalCluster, find_bindir
from pgtune.demo.runner import load, run_workload
from tests.conftest import Server

PAGE = Path(__file__).resolve().parent.parent / "docs" / "tutorial.md"
PLACEHOLDER_ROOT = "/tmp/pgtune-pg-abc123"      # the page's example of the demo's temp directory
# The demo's data at 0.15 of its size (loading scale 0.3 took 34 s at load 11 on the 2-core machine), with
# work_mem cut to match for the test's database: the reporter's count(DISTINCT "ipHash") over video_views
# (300,000 x SCALE rows) spills 11 MB at the demo's scale under the default 4MB, and here about 1.6 MB
# under 256kB. config counts spills of at least 1 MB a call (docs/settings/memory.md): at 0.1, PostgreSQL 18
# spilled 1,088 kB, too near that line. The page's step 9 is about that spill.
SCALE = 0.15
WORK_MEM = "256kB"


@dataclass(frozen=True)
class Expect:
    code: int = 0
    lines: tuple[str, ...] = ()                  # regexes each found in stdout (stderr for wrote: lines)
    stderr: tuple[str, ...] = ()
    without_hypopg: tuple[str, ...] = ()         # regexes found in stdout when the server has no HypoPG
    absent: tuple[str, ...] = ()                 # regexes never in stdout


SKIPPED = {
    "make install": "the test runs in the installed package's own environment",
    ".venv/bin/pgtune demo --keep": "the fixture loads the demo's schema, data and workload itself (smaller scale)",
    'export DATABASE_URL="host=/tmp/pgtune-pg-abc123 port=41234 user=postgres dbname=demo"':
        "the fixture sets DATABASE_URL to its own database",
    "source .venv/bin/activate": "pgtune runs from this interpreter's environment",
    "pgtune suggest --prisma-schema prisma/schema.prisma --write --emit prisma/migrations --layout prisma":
        "needs the application's schema.prisma and Prisma folder (tests/test_prisma*.py, tests/test_layouts.py, "
        "tests/test_p34_prisma_layout_drift.py)",
}

CREATE = r"CREATE INDEX CONCURRENTLY IF NOT EXISTS"
EXPECT: dict[str, Expect] = {
    "pgtune rollback /tmp/pgtune-pg-abc123/migrations/demo": Expect(0, (r"rollback: \S+_demo: phases run \[",)),
    "pgtune check": Expect(0, (r"pg_stat_statements preloaded\s+yes", r"pg_stat_statements installed\s+yes",
                               r"reads all statistics\s+yes"),
                           without_hypopg=(r"hypopg installed\s+no", r"hint: hypopg is not available")),
    "pgtune suggest": Expect(0, (CREATE, r'"viewsCount" >= 0', r'"likesCount" >= 0', r'"durationSec" >= 0'),
                             without_hypopg=(r"method: heuristic", r"hint: hypopg is not available")),
    "pgtune suggest --max-index-mb 10": Expect(0, (CREATE,)),
    """psql "$DATABASE_URL" -c 'UPDATE videos SET "likesCount" = -1 WHERE id = 1'""": Expect(0, ("UPDATE 1",)),
    "pgtune suggest | grep -E 'likesCount|data quality'":
        Expect(0, (r'data quality: public\.videos has 1 row breaking "likesCount" >= 0 \(e\.g\. -1\)',)),
    """psql "$DATABASE_URL" -c 'UPDATE videos SET "likesCount" = 0 WHERE id = 1'""": Expect(0, ("UPDATE 1",)),
    "pgtune suggest --emit migrations/tuning": Expect(
        0, ("CHECK constraints are not in the migration: review them, then emit with --constraints",),
        stderr=(r"wrote migration \S+ \(2 phases\) to migrations/tuning",)),
    "ls migrations/tuning": Expect(0, ()),      # the names are the page's own comment: see test body
    "cat migrations/tuning/01_up.sql": Expect(0, (CREATE, r"SET lock_timeout", r"ANALYZE public\.")),
    "pgtune apply migrations/tuning --dry-run": Expect(0, ("would-run", r"phases run -")),
    "pgtune apply migrations/tuning": Expect(0, (r"phases run \[1, 2\]",)),
    "pgtune status migrations/tuning": Expect(0, (r"1\s+indexes for the costliest statements.*applied",
                                                   r"2\s+remaining indexes\s+applied")),
    "pgtune verify migrations/tuning": Expect(0, (r"(?m)^ok ",)),
    """pgtune verify --query 'SELECT count(*) FROM likes WHERE "videoId" = 42' --expect-index likes_videoId_idx""":
        Expect(0, (r"(?m)^ok\s+-\s+select likes by videoId #\w+\s+likes_videoId_idx",)),
    "pgtune rollback migrations/tuning": Expect(0, (r"phases run \[2, 1\]",)),
    """psql "$DATABASE_URL" -c 'CREATE INDEX videos_title_a ON videos (title)' -c 'CREATE INDEX videos_title_b """
    """ON videos (title)'""": Expect(0, ("CREATE INDEX",)),
    "pgtune health": Expect(1, (r"warning\s+duplicate-index\s+public\.videos\s+videos_title_b",
                                r"warning\s+foreign-key-without-index")),
    "pgtune health --emit migrations/health": Expect(1, ("duplicate-index",), stderr=(r"wrote migration \S+_health",)),
    "cat migrations/health/*_down.sql": Expect(0, (r"CREATE INDEX CONCURRENTLY IF NOT EXISTS videos_title_b ON "
                                                   r"public\.videos \(title\)",)),
    "pgtune apply migrations/health && pgtune status migrations/health": Expect(0, (
        r"DROP INDEX CONCURRENTLY IF EXISTS public\.videos_title_b",
        r"indexes for foreign keys\s+applied\s+-\s+-\s+- → [\d.]+\n",        # no forecast made: -, not 0.0
        r"applied\s+-\s+-\s+[\d.]+ → none\n")),       # the dropped duplicate: none now, not "not built"
    "pgtune verify migrations/health": Expect(0, (r"indexes: - → [\d.]+ MB \(forecast at emit → on disk now\)",)),
    "pgtune rollback migrations/health": Expect(0, (r"phases run \[2, 1\]",)),
    """psql "$DATABASE_URL" -c 'CREATE ROLE reporter LOGIN' -c 'GRANT SELECT ON video_views TO reporter'""":
        Expect(0, ("CREATE ROLE", "GRANT")),
    """psql "$DATABASE_URL user=reporter" -c 'SELECT count(DISTINCT "ipHash") FROM video_views'""":
        Expect(0, ("count",)),
    "pgtune config": Expect(0, (r"role\s+role reporter in \S+\s+work_mem\s",
                                r"1 statement\(s\) of role reporter wrote [\d.]+ MB of temporary files")),
    "pgtune config --window 300": Expect(0, (r"period: .* \(window\)",)),
    "pgtune config --emit migrations/settings": Expect(0, (r"work_mem",), stderr=(r"wrote migration \S+_config",)),
    "cat migrations/settings/01_up.sql": Expect(0, (r"ALTER ROLE reporter IN DATABASE \S+ SET work_mem TO '\d+MB'",)),
    "cat migrations/settings/01_down.sql": Expect(0, (r"ALTER ROLE reporter IN DATABASE \S+ RESET work_mem",)),
    "pgtune apply migrations/settings": Expect(0, (r"ALTER ROLE reporter", r"pg_reload_conf")),
    "pgtune status migrations/settings": Expect(0, (r"role reporter in \S+\s+work_mem\s+\(not set\)\s+\d+MB\s+\d+MB"
                                                    r"\s+applied",)),
    "pgtune verify migrations/settings --window 300": Expect(0, (r"(?m)^ok\s+role reporter in \S+\s+work_mem",
                                                                 r"period: .* \(window\)"),
                                                             absent=(r"\{\}",)),     # `now` when it has none: -
    "pgtune rollback migrations/settings": Expect(0, (r"RESET work_mem", r"phases run \[2, 1\]")),
    "pgtune config --profile oltp --memory 32GB --cpus 8 --storage ssd":
        Expect(0, (r"shared_buffers = '8GB'", r"random_page_cost = '1.1'", r"# memory budget: .* fits in 32\.0 GB")),
    "pgtune config --profile web --memory 8GB --cpus 4 --as alter-system":
        Expect(0, (r"ALTER SYSTEM SET shared_buffers = '2GB';", r"SELECT pg_reload_conf\(\);")),
}


def page_commands(text: str) -> list[str]:
    """Each command of the page's ```sh blocks, continuation lines joined, comments kept (bash drops them)."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in re.sub(r"\\\n\s*", "", block).splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def bare(command: str) -> str:
    """The command without its trailing `# comment`."""
    return re.split(r"\s+#\s", command, maxsplit=1)[0].strip()


def comment(command: str) -> str:
    parts = re.split(r"\s+#\s", command, maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


@dataclass
class Ran:
    command: str
    code: int
    stdout: str
    stderr: str
    seconds: float


@dataclass
class Walk:
    hypopg: bool
    ran: dict[str, Ran] = field(default_factory=dict)
    seconds: float = 0.0
    cpu: float = 0.0
    setup: float = 0.0


def _hypopg(conn: psycopg.Connection[Any]) -> bool:
    return conn.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'hypopg'").fetchone() == (1,)


def _auto_conf(conn: psycopg.Connection[Any]) -> dict[str, str]:
    rows = conn.execute("SELECT name, setting FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf'")
    return {name: setting for name, setting in rows.fetchall()}


def _restore_auto_conf(dsn: str, before: dict[str, str]) -> None:
    """Whatever the run left in postgresql.auto.conf (a failed step before config's rollback) goes back."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        after = _auto_conf(conn)
        changed = False
        for name in after.keys() - before.keys():
            conn.execute(sql.SQL("ALTER SYSTEM RESET {}").format(sql.Identifier(name)))
            changed = True
        for name, value in before.items():
            if after.get(name) != value:
                conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
                changed = True
        if changed:
            conn.execute("SELECT pg_reload_conf()")


def _drop_reporter(dsn: str) -> None:
    # It may own objects in another database: not this run's, left alone.
    with psycopg.connect(dsn, autocommit=True) as conn, contextlib.suppress(psycopg.Error):
        conn.execute("DROP ROLE IF EXISTS reporter")


def _shell_path() -> str:
    """pgtune from this interpreter's environment, then psql (the server's own when the PATH has none)."""
    dirs = [str(Path(sys.executable).parent)]
    if shutil.which("psql") is None:
        dirs.append(str(find_bindir()))
    return os.pathsep.join([*dirs, os.environ.get("PATH", "")])


def _run(command: str, env: dict[str, str], cwd: Path) -> Ran:
    """A plain `pgtune …` runs in-process (a process start costs seconds on a loaded machine); the rest in bash.

    Plain: no pipe, list, redirection, glob or variable, which only a shell would expand.
    """
    started = time.monotonic()
    words = shlex.split(command, comments=True)
    shell_only = set(words) & {"|", "&&", ";", ">"} or re.search(r"[*?\[$~]", " ".join(words))
    if words and words[0] == "pgtune" and not shell_only:
        result = CliRunner().invoke(cli, words[1:], env=env, catch_exceptions=False)
        return Ran(command, result.exit_code, result.stdout, result.stderr, time.monotonic() - started)
    done = subprocess.run(["bash", "-c", command], cwd=cwd, env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=300)
    return Ran(command, done.returncode, done.stdout, done.stderr, time.monotonic() - started)


@pytest.fixture(scope="module")
def walk(pg_server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    if pg_server.kind != "local cluster":
        pytest.skip("the tutorial's psql steps log in as a new role with no password: the demo's local cluster")
    started, cpu = time.monotonic(), time.process_time()
    root = tmp_path_factory.mktemp("tutorial")
    name = f"pgtune_tutorial_{os.getpid()}"
    with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("ALTER DATABASE {} SET work_mem = {}").format(sql.Identifier(name),
                                                                             sql.Literal(WORK_MEM)))
        before = _auto_conf(admin)
    _drop_reporter(pg_server.dsn)
    dsn = pg_server.dsn_for(name)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            # What `pgtune demo --keep` does, at SCALE: its extensions, data, workload and applied migration.
            conn.execute("CREATE EXTENSION pg_stat_statements")
            hypopg = _hypopg(conn)
            if hypopg:
                conn.execute("CREATE EXTENSION hypopg")
            preload = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
            if preload and "pg_qualstats" in preload[0]:
                conn.execute("CREATE EXTENSION pg_qualstats")
            load(conn, SCALE)
            reset_counters(conn)
            with psycopg.connect(dsn, autocommit=True, application_name="demo-app") as app:
                run_workload(app, SCALE)
            demo = api.suggest(conn, emit=api.EmitOptions(directory=root / "migrations" / "demo", slug="demo",
                                                          measure=False))
            assert demo.directory is not None
            api.apply(conn, demo.directory)
        env = {"DATABASE_URL": dsn, "PATH": _shell_path(), "NO_COLOR": "1"}
        result = Walk(hypopg, setup=time.monotonic() - started)
        old = Path.cwd()
        os.chdir(root)
        try:
            for command in page_commands(PAGE.read_text()):
                if bare(command) in SKIPPED:
                    continue
                runnable = command.replace(PLACEHOLDER_ROOT, str(root)).replace("--window 300", "--window 1")
                result.ran[bare(command)] = _run(runnable, env, root)
        finally:
            os.chdir(old)
        result.seconds, result.cpu = time.monotonic() - started, time.process_time() - cpu
        yield result
    finally:
        with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        _drop_reporter(pg_server.dsn)
        _restore_auto_conf(pg_server.dsn, before)


def test_every_command_on_the_page_is_run_or_skipped_with_a_reason() -> None:
    on_page = [bare(c) for c in page_commands(PAGE.read_text())]
    unknown = [c for c in on_page if c not in EXPECT and c not in SKIPPED]
    assert not unknown, f"docs/tutorial.md has commands this test does not know: {unknown}"
    gone = [c for c in [*EXPECT, *SKIPPED] if c not in on_page]
    assert not gone, f"this test expects commands docs/tutorial.md no longer has: {gone}"


def test_each_command_exits_and_prints_as_the_page_says(walk: Walk) -> None:
    problems = []
    for command, ran in walk.ran.items():
        expect = EXPECT[command]
        found = f"{command!r}: exit {ran.code}\n--- stdout\n{ran.stdout[-3000:]}\n--- stderr\n{ran.stderr[-2000:]}"
        if ran.code != expect.code:
            problems.append(f"expected exit {expect.code}, {found}")
            continue
        wanted = [*expect.lines, *(() if walk.hypopg else expect.without_hypopg)]
        missing = [p for p in wanted if not re.search(p, ran.stdout)]
        missing += [p for p in expect.stderr if not re.search(p, ran.stderr)]
        missing += [f"no {p}" for p in expect.absent if re.search(p, ran.stdout)]
        if missing:
            problems.append(f"missing {missing} in {found}")
    assert not problems, "\n\n".join(problems)
    slowest = sorted(walk.ran.values(), key=lambda r: -r.seconds)[:5]
    print(f"tutorial: {len(walk.ran)} commands, {walk.seconds:.1f} s wall ({walk.setup:.1f} s the demo's setup), "
          f"{walk.cpu:.1f} s CPU in this process; slowest: " + ", ".join(f"{r.command[:40]} {r.seconds:.1f} s"
                                                                          for r in slowest))


def test_the_page_comments_name_what_the_commands_print(walk: Walk) -> None:
    """`ls migrations/tuning  # 01_down.sql …` and the like: the comment is what the reader will see."""
    listing = next(c for c in page_commands(PAGE.read_text()) if bare(c) == "ls migrations/tuning")
    assert walk.ran["ls migrations/tuning"].stdout.split() == comment(listing).split()
    health = walk.ran["pgtune health"].stdout
    assert "duplicate-index" in health and "videos_title_b" in health


@pytest.mark.needs_hypopg
def test_with_hypopg_suggest_shows_the_selection_and_its_knee(walk: Walk) -> None:
    out = walk.ran["pgtune suggest"].stdout
    assert "method: hypopg" in out
    assert re.search(r"(?m)^selection: \d+ steps \(\d+ what-if plans\); chosen step \d+: ", out), out
    assert re.search(r"knee of the curve: step \d+: .*\(suggest --max-index-mb [\d.]+\)", out), out
    assert re.search(r"(?m)^\S+\s+public\.\S+\s+.*\s+\d+\s+[\d.,]+x\s+[\d.]+ MB", out), out    # the cost cut column
    budget = walk.ran["pgtune suggest --max-index-mb 10"].stdout
    assert "selection:" in budget


# docs/cli.md: each command's --help examples (the reference page is generated from them).

def help_examples() -> list[str]:
    """Each `pgtune …` line under an `Example:` of docs/cli.md, split at `&&`, without redirections."""
    text = (PAGE.parent / "cli.md").read_text()
    found = []
    for block in re.findall(r"\n  Example:\n((?:    .*\n)+)", text):
        for line in block.splitlines():
            for part in bare(line.strip()).split("&&"):
                part = part.split(" > ")[0].strip()
                if part.startswith("pgtune "):
                    found.append(part)
    return found


def test_every_help_example_parses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A renamed flag, a value out of range or broken quoting in an example fails here, not in a reader's shell.

    The files and folders an example names exist (empty) in a scratch directory: click opens them to parse.
    """
    monkeypatch.chdir(tmp_path)
    examples = help_examples()
    assert len(examples) >= 30
    for example in examples:
        name, *rest = shlex.split(example)[1:]
        for arg in rest:
            if not arg.startswith("-") and re.fullmatch(r"[\w./-]+\.(sql|prisma)", arg):
                (tmp_path / arg).parent.mkdir(parents=True, exist_ok=True)
                (tmp_path / arg).touch()
            elif not arg.startswith("-") and "/" in arg and "=" not in arg:
                (tmp_path / arg).mkdir(parents=True, exist_ok=True)
        # The group's own context settings (-h): a command caches the help option of its first context.
        group = click.Context(cli, info_name="pgtune", **cli.context_settings)
        command = cli.get_command(group, name)
        assert command is not None, example
        command.make_context(name, rest, parent=group)          # raises click.UsageError / BadParameter


def test_verify_help_example_runs_as_printed(db: str) -> None:
    """`pgtune verify --help` showed --query "… WHERE "userId" = 42": a shell drops those inner quotes, so
    PostgreSQL read userid (exit 1: `cannot plan: column "userid" does not exist`). Now it plans and passes."""
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute('CREATE TABLE orders (id bigint PRIMARY KEY, "userId" bigint, total numeric)')
        conn.execute('INSERT INTO orders SELECT g, g % 500, g FROM generate_series(1, 5000) g')
        conn.execute('CREATE INDEX "orders_userId_idx" ON orders ("userId")')
        conn.execute("ANALYZE orders")
    example = next(e for e in help_examples() if e.startswith("pgtune verify --query"))
    env = {**os.environ, "DATABASE_URL": db, "PATH": _shell_path(), "NO_COLOR": "1"}
    done = subprocess.run(["bash", "-c", example], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (example, done.stdout, done.stderr)
    assert re.search(r"(?m)^ok\s+-\s+select orders by userId #\w+\s+orders_userId_idx", done.stdout), done.stdout


def test_a_failed_query_check_names_no_queryid(db: str) -> None:
    """--query has no pg_stat_statements queryid: its FAIL line said `(queryid None)`."""
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute('CREATE TABLE orders (id bigint PRIMARY KEY, "userId" bigint)')
    result = CliRunner().invoke(cli, ["verify", "--dsn", db, "--query", 'SELECT id FROM orders WHERE "userId" = 1',
                                      "--expect-index", "orders_userId_idx"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    fail = next(line for line in result.stdout.splitlines() if line.startswith("FAIL select"))   # not the row
    assert "queryid" not in fail, fail
    assert fail.startswith("FAIL select orders by userId #") and ": expected index not used: orders_userId_idx" in fail


def test_check_names_a_missing_requirement_and_exits_1_as_the_page_says(db: str) -> None:
    """docs/tutorial.md step 2: a requirement is a `missing:` line and exit 1; suggest exits 2 with the same words."""
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("DROP EXTENSION pg_stat_statements")
        name = conn.info.dbname
    check = CliRunner().invoke(cli, ["check", "--dsn", db], catch_exceptions=False)
    missing = (f"missing: pg_stat_statements is preloaded but not installed in database '{name}': "
               "run CREATE EXTENSION pg_stat_statements;")
    assert check.exit_code == 1 and missing in check.stdout, check.output
    suggest = CliRunner().invoke(cli, ["suggest", "--dsn", db], catch_exceptions=False)
    assert suggest.exit_code == 2 and missing.removeprefix("missing: ") in suggest.stderr, suggest.output
    page = PAGE.read_text()
    assert "`missing:` line, and `check` exits 1" in page and "`suggest` then exits 2" in page


def test_check_json_fields_are_the_ones_the_readme_lists(db: str) -> None:
    """README's `pgtune check` paragraph names every field of `check --format json`, and no other."""
    result = CliRunner().invoke(cli, ["check", "--dsn", db, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    readme = (PAGE.parent.parent / "README.md").read_text()
    part = readme.split("### `pgtune check`", 1)[1].split("\n### ", 1)[0].split("`--format json`", 1)[1]
    listed = set(re.findall(r"`([a-z_]+)`", part)) - {"shared_preload_libraries", "pg_stats", "pg_read_all_stats"}
    assert listed == set(json.loads(result.stdout))


def test_a_preload_fix_keeps_the_libraries_the_server_loads(db: str) -> None:
    """check's fix for a library not preloaded printed ALTER SYSTEM SET shared_preload_libraries =
    'pg_stat_statements': the setting is one list, so run as printed it unloaded every other library at the
    restart (auto_explain here; timescaledb or pg_cron elsewhere). A server that preloads auto_explain only.
    One constant per library (m10): one constant 'a,b' is stored as the one library "a,b" (GUC_LIST_QUOTE)."""
    with LocalCluster(settings={"shared_preload_libraries": "'auto_explain'"}) as cluster:
        check = CliRunner().invoke(cli, ["check", "--dsn", cluster.dsn], catch_exceptions=False)
    assert check.exit_code == 1, check.output
    assert ("missing: pg_stat_statements is not loaded: add it to shared_preload_libraries (ALTER SYSTEM SET "
            "shared_preload_libraries = 'auto_explain', 'pg_stat_statements'), restart the server") in check.stdout
    with psycopg.connect(db, autocommit=True) as conn:          # the list as read, and the pg_qualstats hint's
        caps = api.check(conn)
        row = conn.execute("SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'").fetchone()
    assert row is not None and caps.preload_libraries == row[0]
    if caps.qualstats_available:
        unloaded = dataclasses.replace(caps, preload_libraries="auto_explain", qualstats_preloaded=False)
        line = next(h for h in unloaded.hints() if "pg_qualstats is not loaded" in h)
        assert "shared_preload_libraries = 'auto_explain', 'pg_stat_statements', 'pg_qualstats'" in line, line
    unread = dataclasses.replace(caps, preload_libraries=None, pgss_preloaded=False, pgss_available=True)
    assert "plus the libraries it lists now" in unread.problems()[0]


def test_a_preload_recipe_in_the_docs_shows_the_list_it_replaces() -> None:
    """docs/values.md's pg_qualstats recipe set shared_preload_libraries without a word about the list it replaces."""
    pages = [PAGE.parent.parent / "README.md", *sorted(PAGE.parent.rglob("*.md"))]
    blocks = [(page.name, b) for page in pages for b in re.findall(r"```\w*\n(.*?)```", page.read_text(), flags=re.S)]
    recipes = [(name, b) for name, b in blocks if "ALTER SYSTEM SET shared_preload_libraries" in b]
    assert recipes
    for name, block in recipes:
        before = block.split("ALTER SYSTEM SET shared_preload_libraries", 1)[0]
        assert "SHOW shared_preload_libraries" in before and "keep every library it names" in before, (name, block)


def test_every_index_kind_has_its_page() -> None:
    """docs/indexes/README.md: a row per kind whose page exists, every page linked, every operator that makes a
    GIN or BRIN candidate and every costed_by value named (as test_docs does for checks and settings)."""
    from pgtune.analyze.kinds import Operator
    from pgtune.analyze.trial import CostMethod

    folder = PAGE.parent / "indexes"
    table = (folder / "README.md").read_text()
    linked = set(re.findall(r"\]\(([\w-]+\.md)\)", table))
    assert linked == {p.name for p in folder.glob("*.md")} - {"README.md"}
    quoted = set(re.findall(r"`([^`]+)`", table))
    assert {str(o) for o in Operator} - {"range"} <= quoted
    assert "ranges on a column" in table                   # Operator.RANGE: BRIN's row
    assert {str(m) for m in CostMethod} <= quoted
