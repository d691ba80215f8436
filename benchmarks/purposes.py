"""benchmarks/speed.py's suggest with its what-if plans, EXPLAINs and hypothetical indexes by purpose (issue 28).

The same workload and options as speed.py (``--tables``), one suggest with --jobs 1 (one session: the purpose
is the caller's), then speed.py's own table. Per purpose: the what-if plans the selection counts, the EXPLAINs
sent, the hypothetical indexes the what-if sessions made (speed.py's count has the generic-plan review's own
too) and the statements that made them, and pgtune's CPU time while it ran. A purpose is the innermost of
PURPOSES on the call stack (their functions are wrapped here, pgtune's code is not changed); a question the
greedy plans ahead of its evaluation counts for the action whose questions were worked out last. The wrappers
cost CPU of their own: the counts are what to compare.

    python benchmarks/purposes.py [--tables 500] [--statements-per-table 10]
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from typing import Any

import psycopg
import speed

from pgtune import api
from pgtune.analyze import advisor, costing, curve, extended_stats, footprint, scout, selection, whatif
from pgtune.explain_script import Wire

COLUMNS = ("plans", "EXPLAIN", "made", "create statements", "CPU ms")
now = ["other"]
counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
clock = [time.process_time()]


def switch(purpose: str) -> None:
    """Charge the CPU time since the last switch to the purpose that ran, and make ``purpose`` the one running."""
    t = time.process_time()
    counts[now[0]]["CPU ms"] += round((t - clock[0]) * 1000)
    clock[0], now[0] = t, purpose


def purpose(owner: Any, name: str, label: str | Callable[..., str]) -> None:
    real = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        before = now[0]
        switch(label(*args) if callable(label) else label)
        try:
            return real(*args, **kwargs)
        finally:
            switch(before)
    setattr(owner, name, wrapper)


last_action = ["greedy first ADD"]     # the greedy's first questions are planned at once, before any evaluation


def action(_greedy: Any, a: Any, *_: Any) -> str:
    last_action[0] = f"greedy {'first' if a.evaluations == 0 else 're-evaluation'} {a.kind.name}"
    return last_action[0]


PURPOSES: list[tuple[Any, str, str | Callable[..., str]]] = [
    (api, "snapshot", "snapshot"), (api, "after_selection", "after the selection (generic plans)"),
    (advisor._Advisor, "_analyses", "analyses"), (advisor._Advisor, "_candidates", "candidates"),
    (advisor._Advisor, "_price_all", "price now"), (costing.WhatIf, "creatable", "creatable seeds"),
    (footprint.Footprint, "prefetch", "key samples"), (scout, "scout", "scout"),
    (selection.Greedy, "run", "greedy (rest)"), (selection.Greedy, "_questions", action),
    (selection.Greedy, "_evaluate", action), (selection.Greedy, "_opened", "greedy opened"),
    (selection.Greedy, "prefetch", lambda *_: f"{last_action[0]} (planned at once)" if now[0] == "greedy (rest)"
     else now[0]),
    (curve, "points", "curve"), (selection.Greedy, "prune", "curve prune"), (curve, "credited", "curve credited"),
    (curve, "choose", "curve choose"), (advisor, "settle", "settle"), (extended_stats, "propose", "statistics")]


def install() -> None:
    for owner, name, label in PURPOSES:
        purpose(owner, name, label)
    cost_with = selection.Greedy.cost_with

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        before = self.result.what_if_calls
        found = cost_with(self, *args, **kwargs)
        counts[now[0]]["plans"] += self.result.what_if_calls - before
        return found
    selection.Greedy.cost_with = counted
    scouted = scout.scout

    def scouting(*args: Any, **kwargs: Any) -> Any:
        found = scouted(*args, **kwargs)
        counts[now[0]]["plans"] += found[1]
        return found
    scout.scout = scouting
    record = whatif.Hypothetical._record

    def recorded(self: Any, position: int, cand: Any, rows: list[Any], live: bool = True) -> Any:
        counts[now[0]]["made"] += len(rows)
        return record(self, position, cand, rows, live)
    whatif.Hypothetical._record = recorded
    for owner in (Wire, psycopg.Cursor):
        real = owner.execute

        def execute(this: Any, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            kind = speed.kind_of(args[0])
            if kind in ("EXPLAIN", "hypopg_create_index"):
                counts[now[0]]["EXPLAIN" if kind == "EXPLAIN" else "create statements"] += 1
            return _real(this, *args, **kwargs)
        owner.execute = execute


def main() -> None:
    install()
    run, done = speed._run, []

    def once(conn: Any, postmaster: int, _jobs: int | None, total: int) -> Any:
        if not done:
            counts.clear()
            switch("other")
            done.append(run(conn, postmaster, 1, total))
            switch("after")
            counts.pop("after", None)
            rows = sorted(counts.items(), key=lambda kv: (-kv[1]["EXPLAIN"] - kv[1]["plans"], kv[0]))
            total_row: collections.Counter[str] = sum((c for _, c in rows), collections.Counter())
            print("purpose".ljust(44) + "".join(c.rjust(18) for c in COLUMNS))
            for name, c in [*rows, ("total", total_row)]:
                print(name.ljust(44) + "".join(f"{c[col]:18,}" for col in COLUMNS))
        return done[0]
    speed._run = once
    speed.main()


if __name__ == "__main__":
    main()
