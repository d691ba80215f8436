"""What-if costing with HypoPG: hypothetical indexes the planner sees but nobody builds.

Hypothetical indexes live in this backend's memory only; ``session`` always
resets them, so a crash or an error leaves nothing behind on the server.

HypoPG names an index ``<oid>btree_<table>_<columns>`` and cuts that at
NAMEDATALEN bytes, possibly inside a multi-byte character, whatever name the
CREATE INDEX gives. The name comes back from hypopg_create_index and in every
EXPLAIN that uses the index; within a session both are read leniently (the cut
character becomes U+FFFD, the same way in both), so they still match and nothing
fails to decode. pgtune only matches these names, never shows or sends them.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from .. import catalog_sql, ddl
from ..capture import TableKey
from ..connect import lost
from ..explain import Plan
from ..explain_script import Answer, Kept, Wire
from ..explain_script import lenient as lenient  # re-exported: replan and generic_plans read plans so too
from . import calibration
from .candidates import Candidate
from .selection import Ident, ident, order


@contextmanager
def session(conn: psycopg.Connection[Any], leaves: Leaves | None = None, pricing: calibration.Pricing | None = None,
            sizes: dict[Ident, int] | None = None) -> Iterator[Hypothetical]:
    """Hypothetical indexes for the planner of ``conn``; ``leaves``: a partitioned table's leaf partitions
    (Catalog.leaf_partitions), where a HypoPG that refuses one on the partitioned table gets one per leaf; ``pricing``:
    prices the descents HypoPG leaves out (analyze.calibration); ``sizes``: HypoPG's, shared (Hypothetical.sizes)."""
    # hypopg's fake OIDs run out after a few thousand indexes; on a primary it can
    # borrow real ones instead (nothing is written to the catalog).
    in_recovery = conn.execute("SELECT /* pgtune */ pg_is_in_recovery()").fetchone()
    if in_recovery is not None and not in_recovery[0]:
        conn.execute("SET /* pgtune */ hypopg.use_real_oids = on")
    h = _prefix(conn)
    conn.execute(f"SELECT /* pgtune */ {h}hypopg_reset()")
    # psycopg prepares no statement of its own meanwhile: holding some, it frees every prepared statement
    # (ours too: explain_script.Kept) after a ROLLBACK it has not seen lately.
    threshold, conn.prepare_threshold = conn.prepare_threshold, None
    hypo = None
    try:
        with lenient(conn):
            hypo = Hypothetical(conn, leaves, h, pricing, sizes)
            yield hypo
    finally:
        conn.prepare_threshold = threshold
        if not lost(conn):
            conn.execute(f"SELECT /* pgtune */ {h}hypopg_reset()")
            if hypo is not None and hypo.kept.names:
                hypo.kept.clear(conn)


def _prefix(conn: psycopg.Connection[Any]) -> str:
    """HypoPG's schema, quoted, with its dot: its calls name it, as a plan's search_path (the application
    role's, SET LOCAL in the pipeline's transaction: explain.PlanContext) may leave it out."""
    schema = catalog_sql.extension_schema(conn, "hypopg")
    return sql.Identifier(schema).as_string(conn) + "." if schema else ""


CREATE_BLOCK = 200     # candidates create_all sends in one statement (_CREATE_EACH: each numbered from 1, in order)
_CREATE = ("SELECT /* pgtune */ indexrelid, indexname, {h}hypopg_relation_size(indexrelid) "
           "FROM {h}hypopg_create_index(%s)")
_CREATE_EACH = ("SELECT /* pgtune */ h.indexrelid, h.indexname, {h}hypopg_relation_size(h.indexrelid), s.n "
                "FROM unnest(%s::text[]) WITH ORDINALITY AS s(def, n), LATERAL {h}hypopg_create_index(s.def) AS h "
                "ORDER BY s.n")
# Several made in one statement, in their order (a lateral call per element), or dropped. Each one's oid is also
# kept in the session, in a setting named by its slot (from the first parameter on, in order): a later statement of
# the same pipeline drops it by its slot (_GONE), without waiting a round trip for the oid (17,000 of them at
# benchmarks/speed.py's 5,000 statements).
_MADE = ("SELECT /* pgtune */ h.indexrelid, h.indexname, {h}hypopg_relation_size(h.indexrelid), "
         "pg_catalog.set_config('pgtune.hypo_' || (%s::int + d.n), h.indexrelid::text, false) ")
_CREATE_ALL = (_MADE + "FROM unnest(%s::text[]) WITH ORDINALITY AS d(def, n), "
               "LATERAL {h}hypopg_create_index(d.def) AS h ORDER BY d.n")
# The drops by oid, and by slot too (a union planned only where some are: a fifth of the statement's server time).
_OIDS = "unnest(%s::oid[]) AS g(o)"
_GONE = ("(SELECT o FROM unnest(%s::oid[]) AS o UNION ALL "
         "SELECT pg_catalog.current_setting('pgtune.hypo_' || s)::oid FROM unnest(%s::int[]) AS s) AS g(o)")
_DROP_ALL = "SELECT /* pgtune */ {h}hypopg_drop_index(o) FROM {gone}"
# Both in one statement, the drops first: the creates' unnest reads the drops' count (a lateral reference),
# so the planner runs the aggregate over every drop before it makes the first index.
# Parameters: the first slot, the drops' oids and slots, the texts.
_DROP_CREATE = (_MADE + "FROM (SELECT count({h}hypopg_drop_index(o)) AS n FROM {gone}) AS gone, "
                "LATERAL unnest(CASE WHEN gone.n >= 0 THEN %s::text[] END) WITH ORDINALITY AS d(def, n), "
                "LATERAL {h}hypopg_create_index(d.def) AS h ORDER BY d.n")
MAX_SLOTS = 1024   # oids kept in the session's settings per round trip (a setting each, never removed)
# A hypothetical index made, sized and dropped at once (the CTE calls the volatile create once, before the drop).
_MEASURE = ("WITH made AS (SELECT /* pgtune */ indexrelid, indexname, {h}hypopg_relation_size(indexrelid) AS bytes "
            "FROM {h}hypopg_create_index(%s)) "
            "SELECT /* pgtune */ indexrelid, indexname, bytes, {h}hypopg_drop_index(indexrelid) FROM made")
def _numbered(text: str) -> str:
    """``text``'s %s placeholders as $1, $2…, in their order (pgtune's own texts above, no other %)."""
    parts = text.split("%s")
    return "".join(p + (f"${i + 1}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))


MAX_ORDERS = 20_000  # order keys Hypothetical keeps (a few MB): the candidates selection asks about again and again
MAX_PRESENT = 200   # hypothetical indexes kept on tables other than the ones being planned
Leaves = Callable[[TableKey], list[TableKey]]


def hypothetical_ddl(schema: str, table: str, cand: Candidate) -> str:
    """The CREATE INDEX hypopg_create_index gets for ``cand`` on ``schema.table``: ddl.create_index's text.

    An index of plain columns (most candidates) is written here as the pglast printer writes it, names
    quoted by the same function, without building and printing a tree: printing every candidate's was a
    tenth of pgtune's CPU time in benchmarks/speed.py. Expressions, operator classes and predicates go
    through the printer.
    """
    if cand.where is None and all(k.expression is None and k.opclass is None for k in cand.keys):
        keys = ", ".join(ddl.name(k.column) + " DESC" if k.descending else ddl.name(k.column) for k in cand.keys)
        text = f"CREATE INDEX pgtune_hypo ON {ddl.name(schema)}.{ddl.name(table)} ({keys})"
        return f"{text} INCLUDE ({', '.join(ddl.name(c) for c in cand.include)})" if cand.include else text
    return ddl.create_index(schema, table, "pgtune_hypo", cand.keys, concurrently=False, where=cand.where,
                            include=cand.include)


@dataclass(slots=True)
class _Queued:
    """A candidate created in the open pipeline: the slots its oids are kept in, and whether it is still there."""

    slots: list[int]
    live: bool = True


class Hypothetical:
    """The hypothetical indexes the planner sees, by candidate.

    A candidate on a partitioned table is one hypothetical index on it where
    HypoPG accepts that (1.3 does: the planner then sees it on every
    partition); where HypoPG refuses, it is one per leaf partition, all mapped
    back to the candidate, so a plan that uses the partitions' indexes counts
    for it and its size is their sum.
    """

    def __init__(self, conn: psycopg.Connection[Any], leaves: Leaves | None = None, h: str = "",
                 pricing: calibration.Pricing | None = None, sizes: dict[Ident, int] | None = None) -> None:
        self.conn = conn
        self.h = h      # HypoPG's schema, quoted, and a dot (_prefix); as it is in a statement with %s:
        self.hp = h.replace("%", "%%")
        drops = [(f"{name}{suffix}", text.replace("{gone}", gone)) for name, text in
                 (("drop_all", _DROP_ALL), ("drop_create", _DROP_CREATE))
                 for suffix, gone in (("", _OIDS), ("+", _GONE))]
        self.sql = {name: text.replace("{h}", self.hp) for name, text in
                    (("create", _CREATE), ("create_each", _CREATE_EACH), ("create_all", _CREATE_ALL), *drops,
                     ("measure", _MEASURE))}
        # The same for a Wire ($n placeholders, written before the schema goes in: its name may hold a %s).
        self.wired = {name: _numbered(text).replace("{h}", h) for name, text in
                      (("create_all", _CREATE_ALL), *drops)}
        self.pricing = pricing
        self.calibration: calibration.Calibration | None = None
        if pricing is not None:
            row = conn.execute("SELECT /* pgtune */ current_setting('cpu_operator_cost')::float8, "
                               "current_setting('random_page_cost')::float8").fetchone()
            self.calibration = calibration.Calibration({}, float(row[0]) if row else 0.0025, pricing.distinct,
                                                       float(row[1]) if row else 0.0)
        self.leaves: Leaves = leaves or (lambda key: [key])
        self.per_leaf: set[TableKey] = set()   # partitioned tables HypoPG refused an index on
        self.names: dict[str, int] = {}   # hypopg's index name -> candidate position (none: -1, not held)
        self.present: dict[Ident, list[tuple[int, str]]] = {}   # what the planner sees now: oids, names
        self.on_table: dict[TableKey, dict[Ident, None]] = {}    # the same, by table, in creation order
        self.sizes: dict[Ident, int] = {} if sizes is None else sizes    # not the session's: a pool's share them
        self.queued: dict[Ident, _Queued] = {}     # created in an open pipeline: their oids are not known yet
        self.slots = 0      # the slots (_MADE) used in the open pipeline
        self.waiting: deque[tuple[psycopg.Cursor[Any] | Answer, list[tuple[int, Candidate, _Queued]]]] = deque()
        self.sent = self.taken = 0      # statements ``queue`` put in ``waiting`` so far, and recorded (``receive``)
        # Per candidate: the share kept and sampled keys its Descent was worked out with, and the Descent.
        self.descents: dict[Ident, tuple[float | None, float | None, calibration.Descent]] = {}
        # Per candidate: the Descent above with HypoPG's size, made once per size (a copy per index made was 1% of
        # pgtune's CPU at benchmarks/speed.py's 5,000 statements: 116,000 made for 13,000 candidates).
        self.sized: dict[Ident, tuple[calibration.Descent, int, calibration.Descent]] = {}
        # Names of dropped indexes whose descents a plan in flight may still read (queue): those dropped before
        # the last ``received``, and since. Dropped two reads on: selection makes and drops a hypothetical index
        # per question, and their descents were 30-40 MB of suggest's peak at 20,000 statements (issue 28).
        self.dropped: tuple[dict[str, None], dict[str, None]] = ({}, {})
        self.kept = Kept()      # statements kept prepared between plans (analyze.batch)
        self.texts: dict[tuple[Ident, bool], list[str]] = {}     # _statements' answers
        # selection_model.order per candidate, made once: _diff sorted every question's set with it (a tenth of
        # what the greedy's questions cost pgtune at benchmarks/speed.py's 5,000 statements, issue 28).
        self.orders: dict[Ident, tuple[object, ...]] = {}

    def ensure(self, cands: list[Candidate], tables: Collection[TableKey] | None = None,
               positions: Mapping[Ident, int] | None = None) -> None:
        """Make the planner see exactly ``cands`` on ``tables`` (all tables when None).

        ``positions``: what a plan's use of each new index is credited to (``names``); -1 when None.

        Consecutive what-if questions differ by an index or two, so this is one
        or two hypopg calls, not a rebuild; indexes on other tables stay, as
        they cannot change the plan. The calls share one round trip.

        On each table the indexes are created in one fixed order (selection's
        ``order``), whatever was asked before: the planner meets a table's
        hypothetical indexes in the order HypoPG made them, and between two
        paths of nearly equal cost it keeps the first, so the same question
        gets the same cost in any session, after any history (a pool of
        sessions answers as one session would).
        """
        if not self.waiting:        # no plan in flight: those of the indexes dropped are read
            self._unprice(self.dropped[0] | self.dropped[1])
            self.dropped = ({}, {})
        drops, creates = self._diff(cands, tables)
        if len(drops) + len(creates) <= 1:
            for key in drops:
                self.drop(key)
            for cand in creates:
                self.create(positions.get(ident(cand), -1) if positions else -1, cand)
            return
        try:
            with self.conn.pipeline():
                for key in drops:
                    self.drop(key)
                pending = [(cand, [self.conn.execute(self.sql["create"], (text,)) for text in self._statements(cand)])
                           for cand in creates]
        except psycopg.Error:
            # A refused index skips the calls after it: what the planner sees is no longer known
            # here, so start from none (the next question creates what it needs).
            if not lost(self.conn):
                self.reset()
            raise
        for cand, curs in pending:
            self._record(positions.get(ident(cand), -1) if positions else -1, cand, [cur.fetchone() for cur in curs])

    def _diff(self, cands: list[Candidate], tables: Collection[TableKey] | None,
              ) -> tuple[list[Ident], list[Candidate]]:
        """What ``ensure`` drops and creates, in that order, to show the planner exactly ``cands`` on ``tables``."""
        want: dict[TableKey, list[Candidate]] = {}
        orders = self.orders
        if len(orders) > MAX_ORDERS:
            orders.clear()      # a bound on what the cache holds (issue 28's memory), not on what it answers
        for key, c in sorted({ident(c): c for c in cands}.items(), key=lambda kc: orders.get(kc[0]) or
                             orders.setdefault(kc[0], order(kc[0]))):
            want.setdefault(key[0], []).append(c)
        if tables is not None and len(self.present) > MAX_PRESENT:
            # The planner looks through every hypothetical index for each table it plans:
            # a few thousand left on other tables would slow every plan down.
            tables = list(self.on_table)
        scope = set(self.on_table) | set(want) if tables is None else set(tables) | set(want)
        drops: list[Ident] = []
        creates: list[Candidate] = []
        for table in sorted(scope):
            # HypoPG shows a table's indexes to the planner in the order they were made, and a drop leaves the
            # others' order as it was: the wanted ones already there up to the first missing stay (wherever
            # they are in the made order), only those after it are made again. A question without one index
            # of the last one's set makes none (settle's, the curve's: 10% of the indexes speed.py made).
            have, wanted = self.on_table.get(table, {}), want.get(table, [])
            same = 0
            while same < len(wanted) and ident(wanted[same]) in have:
                same += 1
            kept = {ident(c) for c in wanted[:same]}
            drops += [key for key in have if key not in kept]
            creates += wanted[same:]
        return drops, creates

    def queue(self, cands: list[Candidate], tables: Collection[TableKey],
              positions: Mapping[Ident, int] | None = None, wire: Wire | None = None) -> bool:
        """``ensure`` as statements queued in the connection's open pipeline; False when it must be synced first.

        The creates are recorded by ``received`` once the pipeline is synced. One queued
        in the same pipeline is dropped by the slot its oid is kept in (_MADE): it is recorded
        then for the plans made while it was there, not as present.
        """
        drops, creates = self._diff(cands, tables)
        if self.slots and self.slots + sum(len(self._statements(c)) for c in creates) > MAX_SLOTS:
            return False    # (with nothing queued, any number: one question's indexes, one per leaf (r10))
        oids: list[int] = []
        slots: list[int] = []
        for key in drops:
            gone = self.present.pop(key)
            queued = self.queued.pop(key, None)
            if queued is not None:      # made in this pipeline: dropped by its slots (recorded or not: ``receive``)
                slots += queued.slots
                queued.live = False
            else:
                oids += [oid for oid, _ in gone]
            self.dropped[1].update((name, None) for _, name in gone)
            self.on_table[key[0]].pop(key, None)
        via, by = ("+", (oids, slots)) if slots else ("", (oids,))
        if drops and not creates:       # one statement for them all (its result is not read)
            if wire is not None:
                wire.execute(self.wired["drop_all" + via], by)
            else:
                self.conn.execute(self.sql["drop_all" + via], by)
        if creates:     # one statement for them all (and the drops before them), made in their order
            texts: list[str] = []
            made: list[tuple[int, Candidate, _Queued]] = []
            base = self.slots
            for cand in creates:
                key = ident(cand)
                statements = self._statements(cand)
                queued = self.queued[key] = _Queued(list(range(self.slots + 1, self.slots + 1 + len(statements))))
                self.slots += len(statements)
                texts += statements
                made.append((positions.get(key, -1) if positions else -1, cand, queued))
                self.present[key] = []
                self.on_table.setdefault(cand.table, {})[key] = None
            name, params = (("drop_create" + via, (base, *by, texts)) if drops else ("create_all", (base, texts)))
            self.waiting.append((wire.execute(self.wired[name], params, read=True) if wire is not None
                                 else self.conn.execute(self.sql[name], params), made))
            self.sent += 1
        return True

    def received(self) -> None:
        """Record the creates ``queue`` sent, once their pipeline is synced."""
        waiting, self.waiting, self.queued, self.slots = self.waiting, deque(), {}, 0
        # Every plan sent before the last read has been read since: the names dropped before it are no one's.
        self._unprice(self.dropped[0])
        self.dropped = (self.dropped[1], {})
        for cur, made in waiting:
            self._take(cur, made, self.dropped[0])

    def receive(self, mark: int) -> None:
        """Record the creates ``queue`` sent before ``mark`` (``sent`` then), read back before the pipeline is
        synced (a Wire reads as it goes): the plans after them in the pipeline are read in their turn."""
        while self.taken < mark and self.waiting:
            cur, made = self.waiting.popleft()
            self._take(cur, made, self.dropped[1])

    def _take(self, cur: psycopg.Cursor[Any] | Answer, made: list[tuple[int, Candidate, _Queued]],
              dropped: dict[str, None]) -> None:
        """Record one statement's creates; the names of those dropped since go to ``dropped`` (their plans
        are read before the names are forgotten)."""
        self.taken += 1
        rows = cur.fetchall()
        start = 0
        for position, cand, queued in made:
            count = len(queued.slots)
            self._record(position, cand, list(rows[start:start + count]), queued.live)
            if not queued.live:     # dropped in the same pipeline: its plans are read now, none after
                dropped.update((str(row[1]), None) for row in rows[start:start + count] if row)
            start += count

    def forget(self) -> None:
        """After a failed pipeline: what the planner sees, and which statements are prepared, are not known
        any more, so start from none."""
        self.queued, self.waiting, self.slots, self.taken = {}, deque(), 0, self.sent
        if not lost(self.conn):
            self.reset()
            self.kept.clear(self.conn)

    def drop(self, key: Ident) -> None:
        made = self.present.pop(key)
        self.on_table[key[0]].pop(key, None)
        for oid, _ in made:
            self.conn.execute(f"SELECT /* pgtune */ {self.hp}hypopg_drop_index(%s)", (oid,))
        self._unprice(dict.fromkeys(name for _, name in made))     # no plan is in flight here (not queue)

    def _unprice(self, names: dict[str, None]) -> None:
        """Forget the descents of dropped indexes' ``names``: no plan read from now on uses them. (Their
        positions stay: settle reads them after all its plans; selection's, -1, are not held.)"""
        if self.calibration is not None:
            for name in names:
                self.calibration.descents.pop(name, None)

    def size(self, cand: Candidate) -> int:
        """HypoPG's size estimate for ``cand`` (created once if it never was)."""
        key = ident(cand)
        if key not in self.sizes:
            try:
                # Never created, so not present: created, sized and dropped by one statement.
                rows = [self.conn.execute(self.sql["measure"], (text,)).fetchone() for text in self._statements(cand)]
                self.sizes[key] = sum(int(row[2] or 0) for row in rows if row is not None)
            except psycopg.Error:
                if lost(self.conn):
                    raise
                self.reset()            # what a refused one left behind is not known: start from none
                self.create(-1, cand)   # as it always was (a partitioned table HypoPG refuses: its leaves)
                self.drop(key)
        return self.sizes[key]

    def create_all(self, cands: list[Candidate]) -> bool:
        """Create every one of ``cands``; False (and none left) when the server refused one. One statement per
        CREATE_BLOCK: psycopg's work for a statement each was most of it (~13,000 seeds at speed.py's 5,000)."""
        made: list[tuple[Candidate, list[tuple[Any, ...] | None]]] = []
        try:
            for start in range(0, len(cands), CREATE_BLOCK):
                texts = [(cand, self._statements(cand)) for cand in cands[start:start + CREATE_BLOCK]]
                rows: dict[int, tuple[Any, ...]] = {int(row[3]): row for row in self.conn.execute(
                    self.sql["create_each"], ([t for _, ts in texts for t in ts],)).fetchall()}
                at = itertools.accumulate((len(ts) for _, ts in texts), initial=1)
                made += [(c, [rows.get(n) for n in range(a, a + len(t))]) for (c, t), a in zip(texts, at, strict=False)]
        except psycopg.Error:
            if lost(self.conn):
                raise
            self.reset()
            return False
        for cand, got in made:
            self._record(-1, cand, got)
        return True

    def create(self, position: int, cand: Candidate) -> tuple[str, int]:
        """Create ``cand`` hypothetically; return hypopg's (first) index name and its estimated size."""
        try:
            rows = self._create_all(self._statements(cand))
        except psycopg.Error:
            if lost(self.conn) or cand.table in self.per_leaf \
                    or self.leaves(cand.table) in ([], [cand.table]):
                raise
            self.per_leaf.add(cand.table)      # HypoPG refuses the partitioned table: one per leaf instead
            rows = self._create_all(self._statements(cand))
        return self._record(position, cand, rows)

    def _create_all(self, texts: list[str]) -> list[tuple[Any, ...] | None]:
        """Run every CREATE, or none: a refused one drops those made before it."""
        rows: list[tuple[Any, ...] | None] = []
        try:
            for text in texts:
                rows.append(self.conn.execute(self.sql["create"], (text,)).fetchone())
        except psycopg.Error:
            if not lost(self.conn):
                for row in rows:
                    if row is not None:
                        self.conn.execute(f"SELECT /* pgtune */ {self.hp}hypopg_drop_index(%s)", (row[0],))
            raise
        return rows

    def _statements(self, cand: Candidate) -> list[str]:
        """The CREATE INDEX texts of ``cand`` (one per leaf where HypoPG refused its partitioned table), written
        once per candidate: selection makes the same candidates again and again (2% of pgtune's CPU)."""
        per_leaf = cand.table in self.per_leaf
        key = (ident(cand), per_leaf)
        found = self.texts.get(key)
        if found is None:
            tables = self.leaves(cand.table) if per_leaf else [cand.table]
            found = self.texts[key] = [hypothetical_ddl(t[0], t[1], cand) for t in tables]
        return found

    def _record(self, position: int, cand: Candidate, rows: list[tuple[Any, ...] | None],
                live: bool = True) -> tuple[str, int]:
        made = []
        estimate = 0
        for row in rows:
            assert row is not None
            oid, name, size = row[:3]
            if position >= 0:
                self.names[name] = position
            else:       # -1 credits no candidate: as if absent (costing._hits), and not held
                self.names.pop(name, None)
            for dropped in self.dropped:       # made again under a dropped one's name: not to be forgotten
                dropped.pop(name, None)
            made.append((int(oid), name))
            # HypoPG (since 1.2) already sizes a partial index by the rows its predicate keeps.
            estimate += int(size or 0)
        if self.pricing is not None and self.calibration is not None:
            descent = self._descent(self.pricing, cand)
            # With HypoPG's size, for the page reads calibration reprices (one index: per leaf, none are).
            sized = self._sized(ident(cand), descent, estimate) if len(made) == 1 else descent
            self.calibration.descents.update((name, sized) for _oid, name in made)
        if live:
            self.present[ident(cand)] = made
            self.on_table.setdefault(cand.table, {})[ident(cand)] = None
        self.sizes[ident(cand)] = estimate
        return (made[0][1] if made else ""), estimate

    def _sized(self, key: Ident, descent: calibration.Descent, estimate: int) -> calibration.Descent:
        """``descent.sized(estimate)``, made again only when the descent or the size changed."""
        found = self.sized.get(key)
        if found is None or found[0] is not descent or found[1] != estimate:
            found = self.sized[key] = (descent, estimate, descent.sized(estimate))
        return found[2]

    def _descent(self, pricing: calibration.Pricing, cand: Candidate) -> calibration.Descent:
        """``pricing.descent(cand)``, worked out once per candidate and what it reads that can change
        (the share kept and the sampled keys are filled in as selection goes)."""
        key, kept, sampled = ident(cand), pricing.kept(cand), pricing.sampled(cand)
        found = self.descents.get(key)
        if found is None or found[0] != kept or found[1] != sampled:
            found = self.descents[key] = (kept, sampled, pricing.descent(cand))
        return found[2]

    def cost(self, plan: Plan) -> float:
        """``plan``'s cost with the descents of its hypothetical b-trees priced in (without pricing: as planned).
        A plan that uses none of them is charged nothing: its cost is read as planned, without a walk of it (most
        what-if plans of a statement a candidate does not serve)."""
        found = self.calibration
        if found is None or not plan.plan or not any(name in found.descents for name in plan.indexes):
            return plan.cost
        return found.corrected(plan.plan)

    def reset(self) -> None:
        self.queued, self.waiting, self.slots, self.taken = {}, deque(), 0, self.sent
        self.conn.execute(f"SELECT /* pgtune */ {self.h}hypopg_reset()")
        self.names.clear()
        self.dropped = ({}, {})
        if self.calibration is not None:
            self.calibration.descents.clear()
        self.present.clear()
        self.on_table.clear()
