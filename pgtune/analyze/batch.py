"""What-if questions sent many to a round trip: one pipeline, the hypothetical indexes made between the plans.

A what-if answer depends on the question only (the statement, and the
candidates on the tables it reads, created in one fixed order:
whatif.Hypothetical.ensure), not on what the session was asked before. So a
session can take many questions in one pipeline, in any order, and answer
each as it would alone: per question, the hypopg calls that make its
indexes, then its EXPLAINs (explain.Round, each its own statements: workload
text is never joined with other SQL in one string), all in one READ ONLY
transaction while their settings are the same (explain_script.Shared). Questions on the same
tables are sent side by side (``_grouped``), so each table's indexes are made once
for them; one that drops an index made in the same pipeline drops it by the slot
its oid is kept in (whatif.Hypothetical.queue).

A failure anywhere (a plan the server refuses, a timeout, an index HypoPG
refuses) gives up the pipelined answers: the caller asks the questions one
at a time instead, where each failure is handled as it always was.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import psycopg
from psycopg import pq

from ..connect import lost
from ..explain import Plan, Round, deallocate, end_failed
from ..explain_script import Kept, Shared, Wire
from .analysis import Analysis
from .candidates import Candidate
from .selection import Ident, ident, order
from .whatif import Hypothetical

P = TypeVar("P")
P_co = TypeVar("P_co", covariant=True)


class Planner(Protocol[P_co]):
    """What plans the questions (analyze.costing.Costing): its Rounds, and its answer from their plans."""

    @property
    def conn(self) -> psycopg.Connection[Any]: ...

    def reorderings(self, a: Analysis, config: Iterable[Candidate]) -> list[str]: ...

    def rounds(self, a: Analysis, texts: Iterable[str | None]) -> list[Round]: ...

    def pick(self, a: Analysis, planned: list[list[Plan]]) -> P_co: ...

# Per connection (by id) in a what-if session (analyze.costing.what_if): the statements it keeps prepared. The
# statements priced as they run now (costing.price_many) are prepared as it keeps them: the selection plans each
# again, and each prepared and freed there was prepared again after (speed.py's 5,000 statements: PREPAREs and
# DEALLOCATEs 18,018 -> 15,432 each, of 168,669 statements sent, issue 28). Kept only until one the selection asks
# about needs the place (explain_script.Kept.priced): a statement no candidate touches is priced, never asked again.
KEPT: dict[int, Kept] = {}
MAX_ASKS = 256      # questions per READ ONLY transaction: bounds the locks its plans hold at once
MAX_PENDING = 2048  # statements sent and not read back: bounds what the socket and the client hold unread


@dataclass(frozen=True)
class Ask:
    """One question: ``analysis`` planned as Costing.best plans it with ``config``, the planner seeing
    exactly ``present`` on its tables (credited to ``positions``, as whatif.Hypothetical.ensure)."""

    analysis: Analysis
    config: list[Candidate]
    present: list[Candidate]
    positions: Mapping[Ident, int] | None = None


def pipelined(costing: Planner[P], hypo: Hypothetical | None, asks: list[Ask]) -> list[P] | None:
    """Each question's ``best`` answer, or None when any of them failed (ask them one at a time then).
    Without ``hypo``, in a what-if session all the same (``KEPT``): its statements kept prepared serve."""
    out: list[P | None] = [None] * len(asks)
    kept = hypo.kept if hypo is not None else KEPT.get(id(costing.conn))
    if kept is not None:
        kept.provisional = hypo is None     # priced: kept until one the selection asks about needs the place
    try:
        if not _pipeline(costing, hypo, asks, _grouped(asks, list(range(len(asks)))), out, kept):
            return None
    finally:
        if kept is not None:
            kept.provisional = False
    assert all(p is not None for p in out)
    return [p for p in out if p is not None]


def _grouped(asks: list[Ask], block: list[int]) -> list[int]:
    """``block`` with the questions on the same tables side by side, and among them those with the same
    indexes: each table's hypothetical indexes are made once for its questions, not again after questions on
    other tables (a drop of one made in the same pipeline waits no round trip: whatif.Hypothetical.queue).
    The answers do not depend on the order."""
    orders: dict[Ident, tuple[object, ...]] = {}

    def key(i: int) -> tuple[object, ...]:
        present = sorted(orders.get(k) or orders.setdefault(k, order(k)) for k in map(ident, asks[i].present))
        return tables_key(asks[i].analysis), tuple(present)
    return sorted(block, key=key)


def tables_key(a: Analysis) -> tuple[Any, ...]:
    """The tables ``a`` reads, in an order: what puts questions on the same tables side by side."""
    return tuple(sorted(a.shape.tables))


Waiting = deque[tuple[int, list[Round], int]]     # questions sent: each one's Rounds, and hypo's mark after it


def _pipeline(costing: Planner[P], hypo: Hypothetical | None, asks: list[Ask], order: list[int],
              out: list[P | None], kept: Kept | None) -> bool:
    """Every question of ``order`` in one pipeline, its answers read while the next questions are sent: the
    server plans while pgtune makes the next questions and reads the last answers, and none waits for the
    other but at the end (a sync), where the plans still in flight are waited for."""
    conn = costing.conn
    # One READ ONLY transaction for MAX_ASKS questions' plans, not one each (explain_script.Shared).
    shared = None if conn.info.transaction_status == pq.TransactionStatus.INTRANS else Shared()
    waiting: Waiting = deque()
    sent: list[Round] = []
    failure: Exception | None = None
    try:
        with Wire(conn) as wire:
            # Straight through libpq: psycopg's work per statement was a fifth of pgtune's CPU (Wire).
            try:
                _send(costing, hypo, asks, order, out, wire, shared, waiting, sent, kept)
            except (psycopg.Error, ValueError) as exc:
                # Raised once the pipeline block is left (as explain.Round.run does).
                failure = exc
        if failure is None:
            # Leaving the block synced the rest: one round trip.
            if hypo is not None:
                hypo.received()
            _ready(costing, hypo, asks, out, wire, waiting)
    except psycopg.Error as exc:
        failure = failure or exc
    except BaseException:
        # Ctrl-C, say: end the transaction and free the names where the session can still hear it.
        if not lost(conn):
            _recover(conn, sent)
            _forget(conn, hypo, kept)
        raise
    if failure is None:
        return True
    if lost(conn):
        raise failure
    _recover(conn, sent)
    _forget(conn, hypo, kept)
    return False


def _forget(conn: psycopg.Connection[Any], hypo: Hypothetical | None, kept: Kept | None) -> None:
    """After a failed pipeline: which statements are prepared is not known any more (nor, with ``hypo``, which
    indexes the planner sees)."""
    if hypo is not None:
        hypo.forget()
    elif kept is not None and (kept.names or kept.passing):
        kept.clear(conn)


def _send(costing: Planner[P], hypo: Hypothetical | None, asks: list[Ask], order: list[int], out: list[P | None],
          wire: Wire, shared: Shared | None, waiting: Waiting, sent: list[Round], kept: Kept | None) -> None:
    """Each question's hypopg calls and Rounds, the answers that came back meanwhile read after each one."""
    conn = costing.conn
    for n, i in enumerate(order):
        ask = asks[i]
        if hypo is not None and not hypo.queue(ask.present, ask.analysis.shape.tables, ask.positions, wire):
            wire.sync()     # the oids of the indexes made so far, to drop them by after (MAX_SLOTS)
            hypo.received()
            _ready(costing, hypo, asks, out, wire, waiting)
            queued = hypo.queue(ask.present, ask.analysis.shape.tables, ask.positions, wire)
            assert queued      # nothing is waiting for its oid after a sync
        if shared is not None and n and not n % MAX_ASKS:
            _end(costing, hypo, asks, out, wire, waiting, shared)      # the next Round opens another
        texts: list[str | None] = [None, *costing.reorderings(ask.analysis, ask.config)]
        rounds = costing.rounds(ask.analysis, texts)
        if shared is not None and hypo is not None and hypo.slots and rounds and shared.ends(rounds[0].script):
            # This question plans under other settings (another role's row security): its Round would end the
            # transaction the slots were set in, and they would go with it (p12 F2: a drop by an emptied slot
            # was an ERROR in the server's log). The oids are read first, as at MAX_ASKS.
            _end(costing, hypo, asks, out, wire, waiting, shared)
        for r in rounds:
            r.send(conn, shared, kept, wire)
        sent.extend(rounds)
        waiting.append((i, rounds, hypo.sent if hypo is not None else 0))
        wire.flush()    # the server plans this question while the next is made
        wire.take(MAX_PENDING)
        _ready(costing, hypo, asks, out, wire, waiting)
    if kept is not None:
        for step in kept.passed():      # the statements kept for this pipeline only (explain_script.Kept)
            wire.execute(step, prepare=False)
    if shared is not None:
        shared.close(wire)


def _end(costing: Planner[P], hypo: Hypothetical | None, asks: list[Ask], out: list[P | None], wire: Wire,
         waiting: Waiting, shared: Shared) -> None:
    """End the shared transaction, the oids of the indexes made in it read first: their slots (whatif._MADE)
    were set in it and go with it, and a later drop is by oid (a round trip)."""
    shared.close(wire)
    if hypo is not None and hypo.slots:
        wire.drain()
        hypo.received()
        _ready(costing, hypo, asks, out, wire, waiting)


def _ready(costing: Planner[P], hypo: Hypothetical | None, asks: list[Ask], out: list[P | None], wire: Wire,
           waiting: Waiting) -> None:
    """Answer the questions whose plans are all read back, in their order (none after a failure)."""
    while waiting and wire.failure is None and waiting[0][1][-1].read():
        i, rounds, mark = waiting.popleft()
        if hypo is not None:
            hypo.receive(mark)      # the indexes made before its plans (none made after)
        out[i] = costing.pick(asks[i].analysis, [r.plans() for r in rounds])


def _recover(conn: psycopg.Connection[Any], sent: list[Round]) -> None:
    """End the transaction a failure left open and free the names the Rounds prepared."""
    end_failed(conn, bool(sent) and sent[0].nested)
    for name in sorted({n for r in sent for n in r.names}):
        deallocate(conn, name)
