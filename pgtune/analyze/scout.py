"""Each statement's useful candidates, found before the greedy steps (issue 28: one table's statements x candidates).

The greedy (analyze.selection) re-plans every statement an action could change each time it costs the action, and a
step on a table makes every action there stale: with hundreds of statements and candidates on one table that is
statements x candidates x steps of what-if plans (an Umami-shaped log in session 21: 124 statements and 135
candidates, 36,737 plans; 500 shapes, no answer in 25 minutes). Where one table is CROWDED, as in DTA's per-query
candidate selection (Chaudhuri and Narasayya, VLDB 1997), each statement is first planned with every candidate on
its tables present, then without the ones its plan used, ROUNDS plans at most: the planner names the statement's
best indexes and the next best ones. An action then reaches only the statements whose useful indexes its own is, or
is a prefix of, or starts with (the narrower and wider forms Extend's steps move between, with their own columns: a
widening of a statement's index reaches it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable

from ..capture import TableKey
from .candidates import Candidate
from .selection_model import Ident, Uses, Workload, ident, order

ROUNDS = 3          # plans per statement: the indexes it uses, then the ones it would use without them, and so on
SMALL_REACH = 16    # an index's statements up to this many are held in a tuple, not a set
CROWDED = 10_000    # statements x candidates on one table from which the scouting pays
MAX_SHOWN = 400     # candidates shown to one plan; beyond, only those it could use (its keyable columns or covering)

Shape = tuple[TableKey, tuple[str, ...]]      # an index's table and key columns, in order


def crowded(workload: list[Workload], seeds: Iterable[Candidate]) -> tuple[TableKey, int, int] | None:
    """The table with the most statements x candidates, when that reaches CROWDED (its statements, candidates).

    Below it the greedy costs every statement a candidate could change (the scouting's restriction costs a
    little accuracy: an index serving a statement it is not among the useful ones of is not credited there)."""
    per_table = Counter(c.table for c in seeds)
    reading = Counter(t for w in workload for t in w.tables)
    table = max(per_table, key=lambda t: (reading[t] * per_table[t], t), default=None)
    if table is None or reading[table] * per_table[table] < CROWDED:
        return None
    return table, reading[table], per_table[table]


def shape(c: Candidate) -> Shape:
    return c.table, tuple(k.ident for k in c.keys)


class Useful:
    """Per statement, the shapes of the indexes its plans used (with every prefix of each), for ``related``."""

    def __init__(self, found: dict[int, set[Ident]], by_ident: dict[Ident, Candidate]) -> None:
        self.used: dict[int, frozenset[Shape]] = {}
        self.prefixes: dict[int, frozenset[Shape]] = {}
        for pos, idents in found.items():
            shapes = {shape(by_ident[i]) for i in idents}
            self.used[pos] = frozenset(shapes)
            self.prefixes[pos] = frozenset((t, keys[:n]) for t, keys in shapes for n in range(1, len(keys) + 1))

    def related(self, pos: int, cand: Candidate) -> bool:
        """Is ``cand`` one of statement ``pos``'s useful indexes, a prefix of one, or one of them widened."""
        table, keys = shape(cand)
        if (table, keys) in self.prefixes.get(pos, ()):
            return True
        used = self.used.get(pos, ())
        return any((table, keys[:n]) in used for n in range(1, len(keys)))


def _held(cand: Candidate) -> frozenset[str]:
    """The columns an index-only scan of ``cand`` can return: its plain keys and INCLUDE."""
    return frozenset({k.column for k in cand.keys if k.expression is None} | set(cand.include))


def reach_key(cand: Candidate, useful: Useful | None) -> tuple[object, ...]:
    """What ``reach`` depends on: the table, the leading key (all keys, in order, once scouted), the columns held.
    The columns sorted in a tuple (64 bytes for two), not a frozenset (216): one per shape."""
    held = tuple(sorted(_held(cand)))
    return cand.table, shape(cand)[1] if useful is not None else cand.keys[0].ident if cand.keys else "", held


def reach(workload: list[Workload], positions: Iterable[int], cand: Candidate,
          useful: Useful | None) -> Collection[int]:
    """Of ``positions``, the statements ``cand`` could change: those with its leading key among the columns they
    could use on its table, or that read on it only columns it holds (an index-only scan); once scouted, only
    those it is ``related`` to."""
    lead = cand.keys[0].ident if cand.keys else ""
    have = _held(cand)
    near = tuple(p for p in positions if workload[p].could(cand.table, lead, have)
                 and (useful is None or useful.related(p, cand)))
    # A few positions are a tuple (48 bytes and 8 a position, searched as fast as a set's 216 or more).
    return near if len(near) <= SMALL_REACH else frozenset(near)


def shown(workload: list[Workload], seeds: Iterable[Candidate], twins: list[int] | None) -> dict[int, list[Candidate]]:
    """Per statement planned (one of each twin group), the candidates on its tables: the same list for every
    statement of a table, so each session makes the table's hypothetical indexes once a round."""
    on_table: dict[TableKey, list[Candidate]] = {}
    for c in sorted(seeds, key=lambda c: order(ident(c))):
        on_table.setdefault(c.table, []).append(c)
    out: dict[int, list[Candidate]] = {}
    for pos, w in enumerate(workload):
        if twins is not None and twins[pos] != pos:
            continue
        cands = [c for t in sorted(w.tables) for c in on_table.get(t, ())]
        if len(cands) > MAX_SHOWN:
            cands = [c for c in cands if w.could(c.table, c.keys[0].ident if c.keys else "",
                                                 frozenset(k.column for k in c.keys) | set(c.include))]
        if cands:
            out[pos] = cands
    return out


def scout(workload: list[Workload], seeds: list[Candidate], uses: Uses, twins: list[int] | None = None,
          rounds: int = ROUNDS) -> tuple[Useful, int]:
    """The statements' useful candidates, and the plans it took."""
    todo = shown(workload, seeds, twins)
    found: dict[int, set[Ident]] = {pos: set() for pos in todo}
    plans = 0
    for _ in range(rounds):
        if not todo:
            break
        # Statements without the same indexes side by side: a session drops and makes them once for all.
        asks = [(pos, [c for c in todo[pos] if ident(c) not in found[pos]])
                for pos in sorted(todo, key=lambda p: (sorted(order(i) for i in found[p]), p))]
        plans += len(asks)
        again: dict[int, list[Candidate]] = {}
        for (pos, present), hits in zip(asks, uses(asks), strict=True):
            new = hits - found[pos]
            found[pos] |= new
            if new and len(present) > len(new):
                again[pos] = todo[pos]
        todo = again
    if twins is not None:
        for pos, twin in enumerate(twins):
            if twin != pos and twin in found:
                found[pos] = found[twin]
    return Useful(found, {ident(c): c for c in seeds}), plans


class StandIns:
    """Per index that took the place of narrower ones (a widening, or an add or replace that drops them), the
    statements it does not reach that one of those did, and that one: planned in its stead for them.

    A wider index serves whatever a prefix of it served (``site`` then ``(site, a, b)``), but once scouted its reach
    holds only the statements it is useful to: without a stand-in, the others would lose the narrow index's saving
    when the wide one replaces it, and a wide index could never take the place of its prefix."""

    def __init__(self) -> None:
        # By the index's id (it is held in the value): per statement, the index it stands in for. Read straight
        # from the dict by selection.Greedy (millions of lookups at 5,000 statements: no method call each).
        self.by: dict[int, tuple[Candidate, dict[int, Candidate]]] = {}

    def note(self, new: Candidate, gone: Iterable[Candidate], reach: Callable[[Candidate], Collection[int]]) -> None:
        """``new`` evaluated in place of ``gone``: for the statements ``gone`` served and ``new`` does not reach."""
        mine = reach(new)
        found: dict[int, Candidate] = {}
        for g in gone:
            for pos in reach(g):
                if pos not in mine:
                    found.setdefault(pos, g)
            for pos, s in self.by.get(id(g), (g, {}))[1].items():
                if pos not in mine:
                    found.setdefault(pos, s)
        if found:
            self.by[id(new)] = (new, found)
        else:
            self.by.pop(id(new), None)
