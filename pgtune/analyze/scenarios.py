"""Value scenarios of a parameterized statement, and the one rule that turns their plans into its cost.

suggest costs a statement over its scenarios (analyze.values chooses them);
a migration's targets carry the same scenarios, so ``verify`` re-plans the
statement exactly as ``suggest`` costed it and both apply ``weighted_cost``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ValueSource(StrEnum):
    """Where the value of one ``$n`` came from (docs/values.md)."""

    QUALSTATS = "qualstats"              # a constant pg_qualstats saw the statement run with
    QUALSTATS_SHARE = "qualstats-share"  # the column's value whose frequency matches the share of rows the
    #                                      qual kept (pg_qualstats saw no constant: a cast, a generic plan)
    SAMPLE = "sample"                    # one sampled row (equalities on one table may be correlated)
    EXAMPLE = "example"                  # a key expression's constant the application wrote, from
    #                                      pg_qualstats' example of the statement as sent (analyze.written)
    STATS = "stats"                      # the planner's statistics (pg_stats)
    ROWS = "rows"                        # LIMIT: the rows a call returns (pg_stat_statements' rows / calls)
    DEFAULT = "default"                  # LIMIT 20 (1000 in a subquery: a cap), OFFSET 0
    TAUTOLOGY = "tautology"              # one value on both sides of $a = $b (Prisma's 1=1)
    OUTSIDE = "outside"                  # NULL: a $n in no predicate cannot change the plan
    NONE = "none"                        # no rule: this $n stays generic in the plan
    GENERIC = "generic"                  # the scenario is the generic plan (no value at all)


@dataclass(frozen=True, slots=True)
class Scenario:
    """One set of values to plan the statement with, and the share of executions it stands for.

    ``values`` maps "$1" to the value's text (quoted by psycopg when used) or None (SQL NULL);
    a ``$n`` it does not name stays a parameter (planned generic). Empty: the generic plan.
    Another name is a row security policy's setting, its plan alone made with that value
    (``{"$1": "env7", "app.team_id": "1"}``: the big tenant, analyze.sessions.big_tenant).
    """

    values: dict[str, str | None]
    source: ValueSource
    weight: float = 1.0

    @property
    def generic(self) -> bool:
        return not self.values

    def as_dict(self) -> dict[str, Any]:
        return {"values": dict(self.values), "source": str(self.source), "weight": self.weight}

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Scenario:
        """The scenario as stored in JSON (a migration's targets.json)."""
        return cls(dict(raw.get("values") or {}), ValueSource(raw.get("source") or ValueSource.GENERIC),
                   float(raw.get("weight", 1.0)))


def weighted_cost(costs: Sequence[float | None], scenarios: Sequence[Scenario]) -> float | None:
    """The statement's cost over the workload, from the cost of each scenario's plan (None: not planned).

    The mean of the plans made with values (custom plans), weighted by the
    executions each stands for; the generic plan's cost only when no scenario
    has a value. The generic plan's estimate is not what a call costs: it
    prices every value alike, and most drivers send statements unnamed, which
    PostgreSQL plans for their values every time (only a named prepared
    statement may switch to its generic plan). None when nothing was planned.
    """
    custom = weight = 0.0
    generic: float | None = None
    for cost, s in zip(costs, scenarios, strict=True):
        if cost is None:
            continue
        if s.generic:
            generic = cost
        else:
            custom += s.weight * cost
            weight += s.weight
    return custom / weight if weight else generic


def counted(scenarios: Sequence[Scenario], planned: Sequence[bool]) -> list[int]:
    """The positions of the plans ``weighted_cost`` counts (``planned``: that scenario's plan was made): every
    custom plan, the generic one only when there is none. Their indexes are the ones the statement uses: an
    index only the big tenant's calls use serves them (p15), one only a generic plan beside custom ones would
    use serves no call."""
    made = [i for i, ok in enumerate(planned) if ok]
    return [i for i in made if not scenarios[i].generic] or [i for i in made if scenarios[i].generic][:1]


@dataclass(frozen=True)
class Coverage:
    """How many of the occurrences pg_qualstats counted of a statement's quals its constants stand for.

    A prepared statement's generic plan keeps no constant: those occurrences
    are counted (``of``) but their values are unknown (analyze.coverage).
    """

    seen: int                # occurrences of the quals its pg_qualstats values fill, with a constant
    of: int                  # all occurrences of those quals pg_qualstats counted
    alike: bool = False      # each qual had one constant, and the occurrences without one kept as many rows each:
    #                          the generic plan ran with that value (or one as big): it prices them (analyze.coverage)

    @property
    def share(self) -> float:
        return self.seen / self.of if self.of else 1.0


@dataclass(frozen=True, slots=True)
class ParamValue:
    """The value one ``$n`` is planned with in the main scenario, and where it came from."""

    param: str               # "$1"
    value: str | None        # None: NULL (outside) or no value (none)
    source: ValueSource
    use: str                 # what the statement does with it, e.g. 'status =', 'LIMIT', '$4 = $5'
