"""Verify: after deploy, re-plan every targeted statement and check the promise.

A target passes when its plan uses at least one of the indexes the migration
built for it and its cost is not above the baseline by more than the
tolerance. Planned indexes that no target uses are reported too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from .explain import explain
from .plan import load


@dataclass
class TargetResult:
    queryid: int | None
    query: str
    expected: list[str]
    used: list[str]
    baseline_cost: float | None
    cost: float | None
    ok: bool
    problem: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline_cost and self.cost:
            return self.baseline_cost / self.cost
        return None


@dataclass
class Verification:
    migration_id: str
    targets: list[TargetResult] = field(default_factory=list)
    unused_indexes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.targets)


def verify(conn: psycopg.Connection[Any], directory: Path, *, tolerance: float = 0.10) -> Verification:
    m = load(directory, check=False)
    out = Verification(m.id)
    planned = {ix.name for p in m.phases for ix in p.indexes}
    seen: set[str] = set()
    for t in m.targets:
        try:
            plan = explain(conn, t.query)
        except (psycopg.Error, ValueError) as exc:
            out.targets.append(TargetResult(t.queryid, t.query, t.expected_indexes, [], t.baseline_cost,
                                            None, False, f"cannot plan: {' '.join(str(exc).split())}"))
            continue
        used = sorted(plan.indexes & set(t.expected_indexes))
        seen |= plan.indexes
        problems = []
        if t.expected_indexes and not used:
            problems.append("expected index not used: " + ", ".join(t.expected_indexes))
        if t.baseline_cost is not None and plan.cost > t.baseline_cost * (1 + tolerance):
            problems.append(f"regression: cost {plan.cost:.1f} > baseline {t.baseline_cost:.1f}")
        out.targets.append(TargetResult(t.queryid, t.query, t.expected_indexes, used, t.baseline_cost,
                                        plan.cost, not problems, "; ".join(problems)))
    out.unused_indexes = sorted(planned - seen)
    return out
