"""Baselines for verify, captured when a migration is emitted.

Per targeted statement: the parameter types the server infers for ``$n``, its
plans over the value scenarios suggest costed it with and their weighted cost,
and (by default, when safe) its measured execution time with those values.
verify plans and times a target with the same two functions, so both sides
of each comparison are taken the same way.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import psycopg
from psycopg import pq

from ._text import Progress, error_text, one_line
from .analyze import Scenario, ValueSource, counted, weighted_cost
from .connect import lost
from .explain import Plan, PlanContext, covers, deallocate, explain_scenarios, key_types_clause, prepare_text
from .param_types import forget
from .plan import Target
from .readonly import Timing, measure


def param_types(conn: psycopg.Connection[Any], query: str, context: PlanContext | None = None) -> list[str]:
    """The types the server infers for ``$1..$n`` (pg_prepared_statements), in the statement's session
    (its role's search_path); [] when it cannot prepare it. Types remembered for the same text in another
    session that make it fail are forgotten, and it is prepared again as the server types it (r22)."""
    text, n = prepare_text(query)
    if not n:
        return []
    row = _server_types(conn, text, context, key_types_clause(query, n, context))
    if row is None and forget(query, context):
        row = _server_types(conn, text, context, key_types_clause(query, n, context))
    return list(row[0]) if row else []


def _server_types(conn: psycopg.Connection[Any], text: str, context: PlanContext | None, keys: str) -> Any:
    row = None
    try:
        # One statement per query string (pipeline: extended protocol), one round trip. An error is caught
        # inside the pipeline block (in pipeline mode any execute may raise one): leaving the block with an
        # error in flight makes psycopg log "error ignored terminating <Pipeline>: pipeline aborted" on
        # stderr, which reads like a crash.
        with conn.pipeline() as pipe:
            try:
                row = _prepared_types(conn, pipe, text, context, keys)
            except psycopg.Error:
                if lost(conn):
                    raise
    except psycopg.Error:
        if lost(conn):
            raise
    finally:
        if not lost(conn):
            if conn.info.transaction_status != pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK /* pgtune */", prepare=False)   # the failure skipped the pipeline's
            deallocate(conn, "pgtune_types")
    return row


def _prepared_types(conn: psycopg.Connection[Any], pipe: psycopg.Pipeline, text: str,
                    context: PlanContext | None, keys: str) -> Any:
    """``keys``: the types the server cannot infer, `` (text, unknown, …)`` (explain.object_key_types), or ''."""
    with conn.cursor() as cur, conn.cursor() as types:
        for step in ("BEGIN /* pgtune */ READ ONLY", "SET /* pgtune */ LOCAL standard_conforming_strings = on",
                     *(context.steps(conn) if context is not None else ()),
                     f"PREPARE /* pgtune */ pgtune_types{keys} AS {text}"):
            cur.execute(step, prepare=False)
        types.execute("SELECT /* pgtune */ parameter_types::text[] FROM pg_catalog.pg_prepared_statements "
                      "WHERE name = 'pgtune_types'", prepare=False)
        cur.execute("DEALLOCATE /* pgtune */ pgtune_types", prepare=False)   # PREPARE outlives ROLLBACK
        cur.execute("ROLLBACK /* pgtune */", prepare=False)
        pipe.sync()
        return types.fetchone()


def server_message(exc: BaseException) -> str:
    """The server's own one-line message, without the LINE/caret lines that quote pgtune's PREPARE text."""
    if isinstance(exc, psycopg.Error) and exc.diag.message_primary:
        return exc.diag.message_primary
    return error_text(exc)


MEASURE_BUDGET_S = 60.0     # at emit, all targets are timed within this much wall time…
MEASURE_TIMEOUT_MS = 10_000  # …and each statement within this (a slower one is planned only)
# The heap pages an index scan visits, counted on a sample at emit (baseline_pages), more than this many times
# the planner's page count: the predicted time prices the sampled pages, and verify names the page count.
PAGE_COUNT_OFF = 3.0


def scenarios_of(t: Target) -> list[Scenario]:
    """The value scenarios ``t`` was costed over (a target written before they were kept: its values)."""
    if t.scenarios:
        return [Scenario.of(s) for s in t.scenarios]
    return [Scenario(dict(t.values), ValueSource.STATS if t.values else ValueSource.GENERIC)]


def values_digest(t: Target) -> str:
    """A digest of the value scenarios ``t`` is planned and timed with: kept with its baseline at emit, so verify
    tells a target whose values were edited in targets.json since (a time for other values is no gain)."""
    raw = json.dumps([s.as_dict() for s in scenarios_of(t)], sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Planned:
    """A target planned as suggest costed it: every scenario's plan, weighed by analyze.scenarios.weighted_cost."""

    cost: float
    main: Plan                  # the first scenario's plan (the typical execution's)
    runs_generic: bool          # the generic plan is no dearer than the custom ones: the server runs it
    indexes: frozenset[str] = frozenset()   # those any scenario's plan uses: the ones that count, as in suggest
    plans: tuple[Plan, ...] = ()            # every scenario's plan the server gave (baseline_warm pins their scans)


def plan_target(conn: psycopg.Connection[Any], t: Target, *, timeout_ms: int = 30_000,
                types: list[str] | None = None) -> Planned:
    """Plan ``t`` over its value scenarios in one round trip, with the parameter types inferred at emit.

    A scenario the server refuses (a value its type rejects) is planned alone and left out of the
    weighing rather than taking the others' plans with it; when every one fails, the first error is raised.
    """
    found = scenarios_of(t)
    kinds = t.param_types if types is None else types
    try:
        plans: list[Plan | None] = list(explain_scenarios(conn, t.query, [s.values for s in found],
                                                          timeout_ms=timeout_ms, param_types=kinds,
                                                          context=t.context))
    except (psycopg.Error, ValueError) as exc:
        if lost(conn) or len(found) == 1 or isinstance(exc, psycopg.errors.QueryCanceled):
            raise
        plans = [_alone(conn, t.query, s, timeout_ms, kinds, t.context) for s in found]
        if all(p is None for p in plans):
            raise
    costs = [p.cost if p is not None else None for p in plans]
    cost = weighted_cost(costs, found)
    assert cost is not None
    generic = next((p for p, s in zip(plans, found, strict=True) if s.generic and p is not None), None)
    runs_generic = generic is not None and len(found) > 1 and cost == generic.cost
    main = next(p for p in plans if p is not None)
    counts = counted(found, [p is not None for p in plans])
    if runs_generic and generic is not None:
        counts = [i for i, s in enumerate(found) if s.generic]     # the plan the server runs
    return Planned(cost, main, runs_generic, frozenset().union(*(p.indexes for i in counts
                                                                 if (p := plans[i]) is not None)),
                   tuple(p for p in plans if p is not None))


def _alone(conn: psycopg.Connection[Any], query: str, s: Scenario, timeout_ms: int,
           types: list[str] | None, context: PlanContext | None = None) -> Plan | None:
    try:
        return explain_scenarios(conn, query, [s.values], timeout_ms=timeout_ms, param_types=types,
                                 context=context)[0]
    except (psycopg.Error, ValueError):
        if lost(conn):
            raise
        return None


NO_VALUE = "parameterized: no value for"    # a target's baseline_note when no scenario gives every $n a value


def lacks_values(t: Target) -> bool:
    """``t`` was not timed at emit because pgtune saw no value for one of its ``$n`` (verify will not time it)."""
    return t.baseline_note.startswith(NO_VALUE)


class Measurement(StrEnum):
    """Whether a target was timed, and if not which kind of reason: decided where the reason arises."""

    MEASURED = "measured"
    NOT_ASKED = "not-asked"          # verify without --measure
    NOT_EXECUTED = "not-executed"    # pgtune would not run it: it could write, calls code not PostgreSQL's own,
                                     # or a $n has no value
    NOT_MEASURED = "not-measured"    # run, but no time: statement_timeout, or the server refused every value


@dataclass(frozen=True)
class Untimed:
    """Why a target has no time, by kind."""

    kind: Measurement
    reason: str

    @property
    def note(self) -> str:
        """``not executed: writes (DELETE)`` / ``not measured: slower than statement_timeout (30000 ms)``."""
        return f"{self.kind.value.replace('-', ' ')}: {self.reason}"


@dataclass(frozen=True)
class Timed:
    """A target's time over the scenarios that name every ``$n``: their best times, weighed like their costs."""

    ms: float
    runs: int                  # each scenario's time is the best of this many runs
    read_blocks: int           # blocks the timed runs read from disk (0: all from shared buffers)
    timed: int                 # scenarios timed…
    custom: int                # …of this many with values
    share: float               # the share of the custom scenarios' weight they stand for
    values: str = ""           # the values of the first scenario timed: ``$1 = 'p4', $2 = '3452'``

    def describe(self) -> str:
        """``best of 3 runs, warm``, the values timed (``, with $1 = 'p4'``), and ``, 2 of 3 value scenarios (88%
        of their weight)`` when not all were. The values, as on skewed data a big tenant's and a small one's run
        different plans, and a ratio measured with one says nothing of the other (p35: "ok 21.2x" for a big
        project's notifications page, while the small projects' read the whole table)."""
        runs = f"best of {self.runs} runs" if self.runs > 1 else "1 run"
        cache = "warm" if not self.read_blocks else f"{self.read_blocks:,} blocks read from disk"
        some = (f", {self.timed} of {self.custom} value scenarios ({self.share:.0%} of their weight)"
                if self.timed < self.custom else "")
        values = f", with {self.values}{' (the first scenario)' if self.timed > 1 else ''}" if self.values else ""
        return f"{runs}, {cache}{values}{some}"


def time_target(conn: psycopg.Connection[Any], t: Target, *, trust_functions: bool = False,
                timeout_ms: int = 30_000) -> tuple[Timed | None, Untimed | None]:
    """``t`` timed with each of its value scenarios that names every ``$n``, or why it is not (the server's
    errors are raised: the caller knows what it was doing)."""
    custom = [s for s in scenarios_of(t) if not s.generic]
    nparams = prepare_text(t.query)[1]
    if not nparams:
        # No $n: a scenario names a policy's setting alone (the typical tenant, the big one): each is timed (q37)
        runnable = custom or [Scenario({}, ValueSource.GENERIC)]
    else:
        runnable = [s for s in custom if covers(s.values, nparams)]
    if not runnable:
        main = custom[0].values if custom else {}
        missing = [f"${n}" for n in range(1, nparams + 1) if f"${n}" not in main]
        return None, Untimed(Measurement.NOT_EXECUTED, f"{NO_VALUE} {', '.join(missing)} to run it with")
    done: list[tuple[Scenario, Timing]] = []
    refused: str | None = None
    for s in runnable:
        try:
            timing, why = measure(conn, t.query, trust_functions=trust_functions, timeout_ms=timeout_ms,
                                  values=s.values if nparams or custom else None, context=t.context)
        except psycopg.errors.QueryCanceled:
            raise
        except psycopg.Error as exc:      # a value its type rejects: the other scenarios still count
            if lost(conn) or len(runnable) == 1:
                raise
            refused = refused or server_message(exc)
            continue
        if timing is None:
            return None, Untimed(Measurement.NOT_EXECUTED, why or "not run")
        done.append((s, timing))
    if not done:
        return None, Untimed(Measurement.NOT_MEASURED, refused or "no value scenario ran")
    weight = sum(s.weight for s, _ in done) or 1.0
    total = sum(s.weight for s in custom) or weight
    ms = sum(s.weight * x.ms for s, x in done) / weight
    return Timed(ms, min(x.runs for _, x in done), sum(x.read_blocks for _, x in done), len(done),
                 max(len(custom), len(done)), min(weight / total, 1.0) if nparams or custom else 1.0,
                 _values(done[0][0].values) if nparams or custom else ""), None


def _values(values: Mapping[str, str | None], most: int = 4) -> str:
    """``$1 = 'p4', $2 = '3452'``: the first ``most`` of a scenario's values, each cut at 40 characters."""
    def shown(v: str | None) -> str:
        return "NULL" if v is None else "'" + (v if len(v) <= 40 else v[:39] + "…") + "'"
    keys = sorted(values, key=lambda k: int(k[1:]) if k[1:].isdigit() else 0)
    more = f" and {len(keys) - most} more" if len(keys) > most else ""
    return ", ".join(f"{k} = {shown(values[k])}" for k in keys[:most]) + more


def capture(conn: psycopg.Connection[Any], targets: list[Target], *, analyze: bool = False,
            say: Progress | None = None, trust_functions: bool = False,
            budget_s: float = MEASURE_BUDGET_S) -> list[Target]:
    """The targets with their baselines: parameter types, plans and cost now (and time, with ``analyze``).

    The cost is weighed over the target's value scenarios as suggest weighed it, so the cut suggest
    predicted and the one verify finds start from the same figure. Timing runs each read-only target
    (with each scenario's values) up to three times and keeps the best, within ``budget_s`` for them
    all; a target left untimed says why, so verify can say the baseline is the planner's cost only.
    """
    out = []
    deadline = time.monotonic() + budget_s
    standby = analyze and in_recovery(conn)
    for t in targets:
        types = param_types(conn, t.query, t.context)
        try:
            planned = plan_target(conn, t, types=types)
        except (psycopg.Error, ValueError) as exc:
            if lost(conn):
                raise
            # Kept, so verify fails it with this reason rather than the migration losing its promise.
            out.append(replace(t, param_types=types, baseline_note=f"cannot plan at emit: {server_message(exc)}"))
            continue
        t = replace(t, param_types=types, baseline_plan=planned.main.plan, baseline_cost=planned.cost,
                    baseline_values=values_digest(t))
        if analyze:
            t = _timed(conn, t, deadline, budget_s, trust_functions)
            t = replace(t, baseline_standby=standby) if t.baseline_ms is not None else t
            if t.baseline_note and say:
                say(f"not timed: {t.baseline_note}: {one_line(t.query, 60)}")
        out.append(t)
    return out


def _timed(conn: psycopg.Connection[Any], t: Target, deadline: float, budget_s: float,
           trust_functions: bool) -> Target:
    """``t`` with its baseline time, or with the reason it has none."""
    left_ms = int((deadline - time.monotonic()) * 1000)
    if left_ms <= 0:
        return replace(t, baseline_note=f"the time budget for timing at emit ({budget_s:.0f} s) was spent")
    timeout_ms = min(MEASURE_TIMEOUT_MS, left_ms)
    try:
        timed, why = time_target(conn, t, trust_functions=trust_functions, timeout_ms=timeout_ms)
    except psycopg.errors.QueryCanceled:
        return replace(t, baseline_note=f"slower than {timeout_ms / 1000:g} s")
    except (psycopg.Error, ValueError) as exc:
        if lost(conn):
            raise
        return replace(t, baseline_note=f"failed: {server_message(exc)}")
    if timed is None:
        assert why is not None
        return replace(t, baseline_note=why.reason if why.kind == Measurement.NOT_EXECUTED else why.note)
    return replace(t, baseline_ms=timed.ms, baseline_runs=timed.runs, baseline_read_blocks=timed.read_blocks,
                   baseline_how=timed.describe())


def in_recovery(conn: psycopg.Connection[Any]) -> bool:
    """The server is a hot standby (replaying a primary's WAL)."""
    return conn.execute("SELECT /* pgtune */ pg_catalog.pg_is_in_recovery()").fetchone() == (True,)
