"""What every command shares: error handling, the option groups, and a few pieces of rendering.

A command parses options, makes one library call (pgtune.api) and renders the
result; what two commands mean alike is declared here once.
Exit codes: 0 ok, 1 a check failed, 2 usage or connection error, 130 interrupted.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import select
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
import psycopg

from .._text import one_line
from ..connect import UrlWarning, connect, redact, resolve_dsn
from ..duration import check_timeout
from ..errors import InputError, Interrupted, PgtuneError, count_interrupt, interrupted_by
from .progress import PHASES, stderr_is_log

# The library is imported where a command first uses it, not when its options are parsed: a usage error
# (`suggest --format nope`) answered after some 1.8 s of imports it never needed (c20).
if TYPE_CHECKING:
    from .. import api
    from ..apply import IndexSize
    from ..prisma.advice import PrismaAdvice


def stderr_is_tty() -> bool:
    return sys.stderr.isatty()


def progress(msg: str) -> None:
    """Progress goes to stderr: a line per message on a terminal, a timed line as each phase starts and ends in
    a log (a file or pipe: CI, `2>file`), and a build's percent there now and then; none to a stream captured
    in-process."""
    if stderr_is_tty():
        click.echo(f"… {msg}", err=True)
    elif stderr_is_log():
        PHASES.say(msg)

def style(text: str, **kw: Any) -> str:
    if os.environ.get("NO_COLOR") or not sys.stdout.isatty():
        return text
    return click.style(text, **kw)


def fail(message: str, code: int) -> None:
    PHASES.end("stopped")       # the log says how long the phase ran before the error
    click.echo(f"pgtune: {message}", err=True)
    sys.exit(code)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        dsn = resolve_dsn(kwargs.get("dsn"))
        PHASES.begin()
        try:
            return fn(*args, **kwargs)
        except PgtuneError as exc:
            if not isinstance(exc, Interrupted) and interrupted_by(exc):    # a cleanup's error as Ctrl-C unwound
                fail("interrupted", Interrupted.exit_code)
            fail(redact(one_line(str(exc), 2000), dsn), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", Interrupted.exit_code)
        finally:
            PHASES.end()
    return wrapper


def _redact_argv(text: str, argv: list[str]) -> str:
    """Usage errors echo arguments back: a DSN given where an option was expected carries its password."""
    for arg in argv:
        text = redact(text, arg)
    return redact(text, "")


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """pgtune's own warnings as one line on stderr; any other as Python prints it."""
    if issubclass(category, UrlWarning):
        click.echo(f"pgtune: warning: {message}", err=True)
    else:
        _python_warning(message, category, filename, lineno, file, line)


_python_warning = warnings.showwarning


def usage_line(exc: click.ClickException, ctx: click.Context | None) -> str:
    """A usage error in one line, naming the command's usage and its help: click printed three (its usage,
    "Try ... for help." and the error), the error last, where a script's ``tail -1`` or a log's first line
    kept only part of it (p17)."""
    message = one_line(exc.format_message(), 500).rstrip(".")
    if ctx is None or not isinstance(exc, click.UsageError):
        return message
    usage = one_line(ctx.get_usage(), 200).removeprefix("Usage: ")
    helps = f"{ctx.command_path} {ctx.help_option_names[0]} for help"
    return f"{message} ({helps})" if usage.endswith("[OPTIONS]") else f"{message} (usage: {usage}; {helps})"


def _reader_gone() -> bool:
    """Is standard output a pipe whose reader has closed its end (``| head -1`` after its line)? poll reports
    POLLERR on such a pipe's write end; a file, a terminal or a pipe still read never."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), 0)       # errors and hang-ups are reported whatever is asked
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


class Group(click.Group):
    """Runs click without its own error printing, so that usage errors are redacted too."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            if not _reader_gone():
                raise
            # The reader has what it wanted: end quietly, exit 0, as cat and grep do (c19: click made it exit 1,
            # failing a pipeline under pipefail). What is still buffered goes nowhere, not to a flush error at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
            sys.exit(0)

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, windows_expand_args: bool = True, **extra: Any) -> Any:
        counted = threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGINT) is signal.default_int_handler
        if counted:
            signal.signal(signal.SIGINT, count_interrupt)       # Python's own, counted (errors.count_interrupt)
        try:
            return self._main(args, prog_name, complete_var, windows_expand_args, **extra)
        finally:
            if counted:
                signal.signal(signal.SIGINT, signal.default_int_handler)

    def _main(self, args: Any, prog_name: str | None, complete_var: str | None, windows_expand_args: bool,
              **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        warnings.showwarning = _show_warning
        if sys.stdout is None:
            # Started with no standard output (>&-): click.echo wrote the report nowhere, exit 0 (u18).
            fail("standard output is closed, where pgtune writes its report: redirect it (> file, or > /dev/null)",
                 2)
        try:
            return super().main(argv, prog_name, complete_var, standalone_mode=False,
                                windows_expand_args=windows_expand_args, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            if isinstance(exc, BadValue):
                fail(_redact_argv(exc.message, argv), 2)      # names the option and what it takes
            fail(_redact_argv(usage_line(exc, ctx), argv), 2)
        except click.exceptions.Abort:
            fail("interrupted", Interrupted.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", Interrupted.exit_code)
        except Exception as exc:
            if interrupted_by(exc):
                fail("interrupted", Interrupted.exit_code)
            if os.environ.get("PGTUNE_DEBUG"):
                raise
            fail(_redact_argv(f"internal error ({type(exc).__name__}: {one_line(str(exc), 300)}); "
                              "re-run with PGTUNE_DEBUG=1 for the traceback and report it", argv), 1)


class Duration(click.ParamType[str]):
    """A PostgreSQL duration (``5s``, ``500ms``, ``2min``), refused where it enters."""

    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return check_timeout(str(value))
        except PgtuneError:
            self.fail(f"{value!r} is not a duration: use e.g. 5s, 500ms, 2min (a bare number is ms)", param, ctx)


DURATION = Duration()


class Size(click.ParamType[int]):
    """A server's memory (``16GB``, ``512MB``), in bytes: at least 16MB. Below it the formulas give
    settings PostgreSQL refuses (``maintenance_work_mem`` under its 1MB floor; ``--memory 0`` proposed
    ``effective_cache_size = '1kB'``), and a bare number is bytes: ``--memory 16`` meant 16GB (p22)."""

    name = "SIZE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        from ..config.units import memory_floor, parse_size
        try:
            n = parse_size(str(value), "--memory")
        except PgtuneError:
            self.fail(f"{value!r} is not a size: use e.g. 16GB, 512MB", param, ctx)
        why = memory_floor(str(value), n)
        if why is not None:
            self.fail(why, param, ctx)
        return n


class BadValue(click.BadParameter):
    """An option's value pgtune refuses, said in one line of its own (Group prints no usage for it)."""


class InputFile(click.File):
    """A file to read (``-``: standard input). A closed standard input (``<&-``, a service with none) made
    click raise a RuntimeError, reported as pgtune's internal error, exit 1 (u18)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except RuntimeError:
            name = param.opts[0] if param is not None and param.opts else "the file"
            raise BadValue(f"{name} {value}: standard input is closed: give a file, or pipe the statements in",
                           ctx, param) from None


class _Range:
    """What a numeric option takes, said in pgtune's words when refused (click's were "'abc' is not a valid
    integer range" and "-3 is not in the range x>=0")."""

    kind = "a number"
    min: Any
    max: Any
    min_open: bool

    def wants(self) -> str:
        low, high = (None if x is None else f"{x:g}" for x in (self.min, self.max))
        if low is not None and high is not None:
            if self.min_open:
                return f"{self.kind} above {low} and at most {high}"
            return f"{self.kind} from {low} to {high}"
        if low is not None:
            return f"{self.kind} above {low}" if self.min_open else f"{self.kind} of {low} or more"
        return self.kind if high is None else f"{self.kind} of {high} or less"

    def refuse(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> NoReturn:
        name = param.opts[0] if param is not None and param.opts else "the value"
        raise BadValue(f"{name} takes {self.wants()}, not {str(value)!r}", ctx, param)


class Whole(_Range, click.IntRange):
    """A whole number in a range (``click.IntRange``), refused in one line."""

    kind = "a whole number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            return int(super().convert(value, param, ctx))
        except click.BadParameter:
            self.refuse(value, param, ctx)


WINDOW_MAX_S = 86_400.0     # --window: a wait, so a day at most (a value meant in ms waited 3.5 days, p22)
WAIT_MAX_S = 86_400.0       # apply/rollback --wait, --wait-for-transactions: a day at most too (c25)


class Number(_Range, click.FloatRange):
    """A finite number in a range (``click.FloatRange``, which took 'nan' for a wait), refused in one line."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(super().convert(value, param, ctx))
        except click.BadParameter:
            self.refuse(value, param, ctx)
        if not math.isfinite(number):
            self.refuse(value, param, ctx)
        return number


dsn_option = click.option(
    "--dsn", metavar="DSN", help="libpq connection string or URL. Default: $DATABASE_URL, "
    "else libpq's PG* variables, service file and .pgpass.")
class Format(StrEnum):
    """--format: a table for a person, or the result's as_dict() as JSON."""

    TABLE = "table"
    JSON = "json"


format_option = click.option("--format", "fmt", type=click.Choice([f.value for f in Format]),
                             default=Format.TABLE.value, show_default=True, help="Output format.")

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def options(*decorators: Decorator) -> Decorator:
    """Several click options as one decorator; --help lists them in the order given."""
    def apply(fn: Callable[..., Any]) -> Callable[..., Any]:
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn
    return apply


def emit_options(emit_help: str, lock_help: str, statement_help: str) -> Decorator:
    """--emit [DIR] and the timeouts its migration sets (each command says what they cover)."""
    return options(
        click.option("--emit", "emit_dir", is_flag=False, flag_value="", default=None, metavar="[DIR]", help=emit_help),
        click.option("--lock-timeout", default="5s", show_default=True, type=DURATION, help=lock_help),
        click.option("--statement-timeout", default="1min", show_default=True, type=DURATION, help=statement_help))


class LazyChoice(click.Choice[str]):
    """A Choice whose values are read from the library only when an option of it is parsed or shown."""

    def __init__(self, values: Callable[[], list[str]], default: str | None = None) -> None:
        self._values = values
        self._loaded: tuple[str, ...] | None = None
        self.default = default      # the option's default, one of the values (tests/test_cli_usage_fast.py)
        super().__init__(())

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is not None and value == self.default:   # every run converts the default: it needs no library
            return value
        return super().convert(value, param, ctx)

    @property
    def choices(self) -> tuple[str, ...]:
        if self._loaded is None:
            self._loaded = tuple(self._values())
        return self._loaded

    @choices.setter
    def choices(self, value: Any) -> None:
        pass


def _layouts() -> Any:
    from ..plan import Layout
    return Layout


layout_option = click.option(
    "--layout", type=LazyChoice(lambda: [x.value for x in _layouts()], "pgtune"), default="pgtune", show_default=True,
    help="With --emit: pgtune's folder (apply/rollback/verify), or files your migration tool runs, "
         "added to its folder: prisma (a folder per phase and per concurrent build), flyway, golang-migrate.")


def prisma_options(schema_help: str, write_help: str) -> Decorator:
    """--prisma-schema FILE and --write (which needs it)."""
    return options(
        click.option("--prisma-schema", type=click.Path(path_type=Path, exists=True), default=None, help=schema_help),
        click.option("--write", is_flag=True, help=write_help))


def prisma_choice(schema: Path | None, write: bool) -> api.PrismaOptions | None:
    """What --prisma-schema and --write ask for; usage error for --write alone."""
    if write and schema is None:
        raise click.UsageError("--write needs --prisma-schema")
    if schema is None:
        return None
    from .. import api
    return api.PrismaOptions(schema, write)


def emit_choice(emit_dir: str | None, layout: str, **settings: Any) -> api.EmitOptions | None:
    """What --emit asks for (None without it); usage error for --layout, or any option whose help says "With
    --emit:", given without --emit."""
    if emit_dir is None:
        if layout != "pgtune":
            raise click.UsageError("--layout needs --emit DIR (your tool's migrations folder)")
        given = _emit_only_given()
        if given:
            raise click.UsageError(f"{', '.join(given)} only {'shapes' if len(given) == 1 else 'shape'} the "
                                   "migration --emit writes: add --emit [DIR], or leave "
                                   f"{'it' if len(given) == 1 else 'them'} out")
        return None
    from .. import api
    from ..plan import Layout
    if emit_dir and layout == Layout.PGTUNE:
        _own_folder(Path(emit_dir))
    return api.EmitOptions(directory=Path(emit_dir) if emit_dir else None, layout=Layout(layout), **settings)


def _emit_only_given() -> list[str]:
    """The options of the running command whose help says "With --emit:" that were given (on the command line or
    through the environment): without --emit they did nothing, and nothing said so (c19: suggest --keep-redundant,
    --no-measure; health --measure, --lock-timeout)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return []
    given = []
    for p in ctx.command.params:
        if not isinstance(p, click.Option) or not (p.help or "").startswith("With --emit:") or p.name is None:
            continue
        source = ctx.get_parameter_source(p.name)
        if source not in (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT):
            continue
        value = ctx.params.get(p.name)
        # A boolean pair (--measure/--no-measure): the spelling its value came from.
        given.append(p.secondary_opts[0] if p.secondary_opts and value is False else p.opts[0])
    return given


def _own_folder(directory: Path) -> None:
    """pgtune's layout writes 01_up.sql, 01_down.sql… into the --emit folder itself: one that already holds other
    files (a Flyway folder, someone's own 01_up.sql, a half-written emit) had them overwritten or left beside the
    migration's, where a `psql -f` of every *_up.sql ran them too (u18). A folder with a manifest says which
    migration it holds (plan.emit)."""
    from ..plan import Layout, check_writable
    check_writable(directory, Layout.PGTUNE)      # its words first: a file, Prisma's folder, not writable
    if not directory.is_dir() or (directory / "manifest.json").exists():
        return
    # A dot-file that is no migration (.gitkeep, .gitignore, .DS_Store) is how an empty folder is kept in git: no
    # script of it runs, and the migration's files take no name of its (c21).
    others = sorted(p.name for p in directory.iterdir() if not _kept_dotfile(p))
    if others:
        ctx = click.get_current_context(silent=True)
        layouts = ctx is not None and "layout" in ctx.params
        raise InputError(f"{directory} already holds other files ({', '.join(others[:3])}"
                         f"{', …' if len(others) > 3 else ''}): pgtune's migration is a folder of its own; choose "
                         "a new or empty --emit folder" + (", or --layout flyway / golang-migrate / prisma to add "
                                                           "to your tool's" if layouts else ""))


def _kept_dotfile(path: Path) -> bool:
    """A hidden file a migration tool never runs: a dot-file, not a folder, not SQL."""
    return path.name.startswith(".") and not path.is_dir() and not path.name.lower().endswith(".sql")


def wrote(migration_id: str, phases: int, directory: object, layout: str) -> str:
    """The stderr line for a migration written by --emit."""
    return (f"wrote migration {migration_id} ({phases} phase{'' if phases == 1 else 's'}) to {directory}"
            + ("" if layout == "pgtune" else f" as {layout} migrations"))


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@contextlib.contextmanager
def connections(dsns: tuple[str, ...]) -> Iterator[list[psycopg.Connection[Any]]]:
    """Connections to the replicas whose pg_stat_statements are merged in, closed whatever happens."""
    conns: list[psycopg.Connection[Any]] = []
    try:
        for d in dsns:
            conns.append(connect(d, given="--workload-dsn"))
        yield conns
    finally:
        for c in conns:
            c.close()


def render_prisma(advice: PrismaAdvice) -> None:
    """What schema.prisma must change (suggest and health alike)."""
    from ..prisma.advice import Fit
    if not advice.proposals:
        return
    click.echo(f"\nPrisma ({advice.schema_path}{', written' if advice.written else ''}):")
    for p in advice.proposals:
        where = f"model {p.model}" if p.model else "no model"
        if p.fit == Fit.REMOVE:
            click.echo(f"  {where}: {p.name}: {p.note}")
        elif p.line:
            done = " (added)" if p.written else ""
            click.echo(f"  {where}: {p.line}{done}" + (f"  -- {p.note}" if p.note else ""))
        else:
            click.echo(f"  {where}: {p.name}: {p.note}")


def index_sizes(sizes: list[IndexSize]) -> str:
    """``38.2 → 40.1``: indexes as forecast at emit and as built now (status's phases, verify's migration)."""
    if not sizes:
        return "-"
    # health --emit forecasts no size for the indexes it builds: none made is "-", not 0.0 (u14).
    known = [s.forecast_bytes for s in sizes if s.forecast_bytes is not None]
    forecast = f"{sum(known) / 1048576:,.1f}" if known else "-"
    if all(s.real_bytes is None for s in sizes):
        return f"{forecast} → none"      # not built yet, or (a drop phase's) dropped: "not built" misread (u14)
    return f"{forecast} → {sum(s.real_bytes or 0 for s in sizes) / 1048576:,.1f}"

