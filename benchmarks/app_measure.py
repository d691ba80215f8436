"""Measuring an application's workload under an index set: the calls it sent, as the server sees them.

benchmarks/prisma_app.py times the signing application (benchmarks/signing_app.py)
with these: a sample of the calls the workload really made, each weighted to
its shape's share; their planner cost with the values they ran with; their
plans, to tell which shapes an index set changes; and a timed replay through
the application's own protocol, read from pg_stat_statements; and the ORM
constructs a normalized statement carries.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

import psycopg
import signing_app as app


@dataclass(frozen=True)
class Call:
    """One call the workload made, standing for ``weight`` calls of its shape."""

    shape: app.Shape
    text: str
    params: tuple[Any, ...]
    weight: float


def sample(recorder: app.Recorder, per_shape: int, seed: int = 3) -> list[Call]:
    """Up to ``per_shape`` calls of each shape, drawn uniformly from what was sent, each weighted to its share."""
    rng = random.Random(seed)
    out: list[Call] = []
    for name, calls in sorted(recorder.calls.items()):
        picked = rng.sample(calls, min(per_shape, len(calls)))
        out += [Call(recorder.shapes[name], text, params, len(calls) / len(picked)) for text, params in picked]
    return out


def explain(conn: psycopg.Connection[Any], call: Call, options: str = "FORMAT JSON") -> dict[str, Any]:
    """EXPLAIN of a call with its values bound (the planner sees them as in a custom plan)."""
    with conn.cursor() as cur:
        cur.execute(f"EXPLAIN ({options}) {call.text}", call.params)   # type: ignore[arg-type]
        row = cur.fetchone()
    assert row is not None
    plan: dict[str, Any] = row[0][0]
    return plan


def costs(conn: psycopg.Connection[Any], calls: list[Call]) -> dict[str, float]:
    """Per shape: Σ weight × planner cost of its sampled calls (so the values sum to the workload's cost)."""
    out: dict[str, float] = {}
    for call in calls:
        out[call.shape.name] = out.get(call.shape.name, 0.0) + call.weight * explain(conn, call)["Plan"]["Total Cost"]
    return out


def replay(dsn: str, calls: list[Call], ids: dict[int, str], passes: int = 3, seed: int = 5) -> dict[str, float]:
    """Per shape: Σ weight × ms of its sampled calls, replayed as the application sends them.

    The time is the server's: pg_stat_statements' execution time per replay, after one warm-up replay, the
    fastest replay kept per shape (other sessions share these two cores, and a busy moment only slows
    one replay). Round trips and the client do not dilute what indexes change. A fresh session: Prisma's
    prepared statements start with an empty plan cache and may switch to a generic plan after five
    executions, as in the application. Writes are rolled back; pg_qualstats is off for the session.
    """
    order = list(range(len(calls)))
    random.Random(seed).shuffle(order)
    weight = {c.shape.name: c.weight for c in calls}
    best: dict[str, float] = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        app.adapt(conn)
        conn.execute("SET statement_timeout = '60s'")
        if conn.execute("SELECT count(*) FROM pg_settings WHERE name = 'pg_qualstats.enabled'").fetchone() == (1,):
            conn.execute("SET pg_qualstats.enabled = off")
        for n in range(passes + 1):
            conn.execute("SELECT pg_stat_statements_reset()")
            for i in order:
                app.execute(conn, calls[i].shape, calls[i].text, calls[i].params)
            if n == 0:
                continue            # the warm-up: caches filled, prepared statements made
            this: dict[str, float] = {}
            for queryid, ms in conn.execute("SELECT queryid, total_exec_time FROM pg_stat_statements WHERE dbid = "
                                            "(SELECT oid FROM pg_database WHERE datname = current_database())"):
                if queryid in ids:
                    this[ids[queryid]] = this.get(ids[queryid], 0.0) + ms
            for name, ms in this.items():
                best[name] = min(best.get(name, float("inf")), ms)
    return {name: weight[name] * ms for name, ms in best.items()}


def plans(conn: psycopg.Connection[Any], calls: list[Call]) -> dict[str, tuple[str, ...]]:
    """Per shape: its sampled calls' plans (EXPLAIN COSTS OFF), to tell which shapes an index set changes."""
    out: dict[str, tuple[str, ...]] = {}
    for call in calls:
        with conn.cursor() as cur:
            cur.execute(f"EXPLAIN (COSTS OFF) {call.text}", call.params)   # type: ignore[arg-type]
            text = "\n".join(r[0] for r in cur.fetchall())
        out[call.shape.name] = (*out.get(call.shape.name, ()), text)
    return out


def queryids(conn: psycopg.Connection[Any], calls: list[Call]) -> dict[int, str]:
    """pg_stat_statements' queryid -> shape name (EXPLAIN VERBOSE prints the statement's query identifier).

    Every sampled call is asked: one shape may be several queryids (never here: ints go untyped), but one
    queryid is never two shapes, and a shape without one could not be timed: both stop the measure.
    """
    out: dict[int, str] = {}
    for call in calls:
        qid = explain(conn, call, "VERBOSE, FORMAT JSON").get("Query Identifier")
        if qid is None:
            raise RuntimeError(f"{call.shape.name}: EXPLAIN VERBOSE gives no query identifier "
                               "(compute_query_id off?)")
        if out.setdefault(int(qid), call.shape.name) != call.shape.name:
            raise RuntimeError(f"queryid {qid} is both {out[int(qid)]} and {call.shape.name}")
    return out


# The ORM constructs a normalized statement carries, each with a parameter pgtune needs a value for.
CONSTRUCTS = {
    "1=1 as $a=$b": r"\$\d+ ?= ?\$\d+",
    "select-list $n": r"(?i)select \$\d+ as",
    "CAST($n::text AS enum)": r"CAST\(\$\d+::text AS",
    "enum array @> CAST($n::text[])": r"CAST\(\$\d+::text\[\]",
    "<> / != $n": r"(<>|!=) ?(\$|CAST\(\$)",
    "NOT IN ($n…)": r"NOT IN \(",
    "IN ($n…)": r"(?<!NOT) IN \((\$|CAST)",
    "ILIKE/LIKE $n": r"(?i)like \$\d+",
    "LIMIT/OFFSET $n": r"(?i)(limit|offset) \$\d+",
}


def constructs(query: str) -> list[str]:
    """The constructs of ``CONSTRUCTS`` found in a normalized statement."""
    return [name for name, pattern in CONSTRUCTS.items() if re.search(pattern, query)]
