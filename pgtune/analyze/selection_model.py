"""What index selection reads and produces: the workload rows, the steps, the selection, the planner's type.

Kept apart from the greedy search (selection.py) so that the curve, the
advisor and the benchmarks read the steps without the search's machinery.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from ..capture import TableKey
from ..ddl import IndexKey
from .candidates import Candidate

Ident = tuple[TableKey, tuple[IndexKey, ...], str | None, tuple[str, ...]]


def ident(c: Candidate) -> Ident:
    """What makes two candidates the same index: table, keys, predicate, INCLUDE (one tuple per candidate)."""
    found = c.ident_
    if found is None:
        found = c.ident_ = (c.table, c.keys, c.where, c.include)
    return found


def order(key: Ident) -> tuple[object, ...]:
    """A total order on indexes (None sorts first), to show the planner a set always the same way."""
    table, keys, where, include = key
    return (table, tuple((k.column, k.expression or "", k.descending) for k in keys), where or "", include)


class StepKind(StrEnum):
    """A step adds an index, widens a chosen one by one key column, or replaces several chosen ones by one
    that holds their columns; the curve starts with NONE."""

    NONE = "none"          # the curve's start: no new index (never a step of the selection)
    ADD = "add"
    WIDEN = "widen"
    REPLACE = "replace"


@dataclass(frozen=True, slots=True)
class Workload:
    """One statement as selection sees it: its weight, cost now, and the columns it touches."""

    calls: int
    base_cost: float
    tables: frozenset[TableKey]
    keyable: dict[TableKey, frozenset[str]]   # columns (or expressions) an index could lead with
    touched: dict[TableKey, frozenset[str]]   # every column it reads per table (covering)

    def could(self, table: TableKey, lead: str, have: frozenset[str]) -> bool:
        """Could an index on ``table`` leading with ``lead`` and holding ``have`` change this statement's plan."""
        if lead in self.keyable.get(table, ()):
            return True
        # An index holding every column the statement reads can answer it by an index-only scan.
        touched = self.touched.get(table)
        return bool(touched) and touched is not None and touched <= have


class SizeBasis(StrEnum):
    """Which size a budget counts: pgtune's forecast of the built index, or HypoPG's estimate.

    The forecast is what the disk will hold; HypoPG's estimate (no
    deduplication) is what other advisors' published budgets were measured in.
    """

    FORECAST = "forecast"
    HYPOPG = "hypopg"


@dataclass(frozen=True, slots=True)
class Step:
    kind: StepKind
    index: Candidate
    replaces: Candidate | None
    forecast_bytes: int        # of the whole set after the step
    hypopg_bytes: int
    cost: float                # the workload's cost after the step (sum of calls x cost)
    also: tuple[Candidate, ...] = ()     # a replace's other chosen indexes it takes the place of

    def bytes(self, basis: SizeBasis) -> int:
        return self.hypopg_bytes if basis == SizeBasis.HYPOPG else self.forecast_bytes


@dataclass
class Selection:
    steps: list[Step] = field(default_factory=list)
    base_cost: float = 0.0
    what_if_calls: int = 0     # plans made (cache misses)
    cache_hits: int = 0
    # statements (workload positions) an evaluated add cut by MIN_GAIN or more whose write upkeep outweighed it
    outweighed: set[int] = field(default_factory=set)
    # adds left out as an existing index leads with their column (analyze.overlap): why, per index
    overlapping: dict[Ident, str] = field(default_factory=dict)

    def overlap_notes(self) -> list[str]:
        """Why each add an existing index overlaps was left out, unless a later step took it all the same."""
        taken = {ident(c) for c in self.configuration(self.steps)}
        return [text for key, text in self.overlapping.items() if key not in taken]

    def note_upkeep(self, costs: dict[int, float], current: dict[int, float], saving: float, gain: float,
                    min_gain: float) -> None:
        """Remember the statements an index would cut, when its upkeep is why it is not taken (the advice says so,
        not that no index helps: analyze.unhelped)."""
        if saving > 0 >= gain:
            self.outweighed.update(p for p, c in costs.items() if c <= current[p] * (1 - min_gain))

    def prefix(self, budget_bytes: float | None = None, max_indexes: int | None = None,
               basis: SizeBasis | None = None) -> list[Step]:
        """The steps up to the first that does not fit: nested for growing budgets by construction."""
        out: list[Step] = []
        count = 0
        for s in self.steps:
            count += (s.kind == StepKind.ADD) - len(s.also)     # a replace: one index for 1 + len(also)
            if budget_bytes is not None and s.bytes(basis or SizeBasis.FORECAST) > budget_bytes:
                break
            if max_indexes is not None and count > max_indexes:
                break
            out.append(s)
        return out

    @staticmethod
    def configuration(steps: Iterable[Step]) -> list[Candidate]:
        config: dict[Ident, Candidate] = {}
        for s in steps:
            for gone in (s.replaces, *s.also):
                if gone is not None:
                    config.pop(ident(gone), None)
            config[ident(s.index)] = s.index
        return list(config.values())


NO_IDENTS: frozenset[Ident] = frozenset()


@dataclass(frozen=True, slots=True)
class Said:
    """One question's answer: its cost; the candidates its scenarios' plans use (what settle credits: an index
    only the big tenant's calls use serves them, p15); those any of its plans uses (a plan of the reordered
    text it was priced by may use one the statement's own does not); the planner's own cost (no descent
    charged; None: ``cost``); and those used whose descents were priced before their keys were sampled (once
    sampled, the same question costs otherwise)."""

    cost: float
    uses: frozenset[Ident] = NO_IDENTS
    every: frozenset[Ident] = NO_IDENTS
    planned: float | None = None
    unsampled: frozenset[Ident] = NO_IDENTS   # those used whose keys were not sampled yet (calibration.Pricing)


# A planner's answer: the cost alone (then nothing is known of what the plans used), or what it said (Said).
Answer = float | Said
# A planner: the cost of statement ``pos`` with exactly these candidate indexes present.
Planner = Callable[[int, list[Candidate]], Answer]
# Many such questions at once (a pool of sessions answers them side by side), answers in their order.
PlanMany = Callable[[list[tuple[int, list[Candidate]]]], Sequence[Answer]]
Question = tuple[int, list[Candidate]]
# Per question, the candidates (idents) its plan uses: what analyze.scout asks of the planner.
Uses = Callable[[list[Question]], list[set[Ident]]]


@dataclass(slots=True)     # one per candidate and widening, alive to the end of the greedy steps
class Action:
    kind: StepKind
    new: Candidate
    old: Candidate | None = None
    drops: tuple[Candidate, ...] = ()    # a replace's: the chosen indexes ``new`` takes the place of
    gain: float = 0.0          # net saving (calls x cost, minus upkeep)
    delta_bytes: int = 0
    costs: dict[int, float] = field(default_factory=dict)
    tables: tuple[TableKey, ...] = ()    # the tables of the statements it can change
    stamp: tuple[int, ...] = ()          # their versions when it was costed
    evaluations: int = 0
    id: int = -1
    ok: bool = False

    @property
    def ratio(self) -> float:
        return self.gain / max(self.delta_bytes, 8192)


_Known = tuple[Candidate, Collection[int], tuple[object, ...], int]   # the index, reach, order, number
Keyed = tuple[int, tuple[int, ...], dict[int, _Known]]    # a question worked out: statement, cache key, usable
