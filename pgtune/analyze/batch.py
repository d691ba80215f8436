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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import psycopg
from psycopg import pq

from ..connect import lost
from ..explain import Plan, Round, deallocate, end_failed
from ..explain_script import Shared, Wire
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

MAX_ASKS = 256      # questions per pipeline: bounds what the client holds before it reads


@dataclass(frozen=True)
class Ask:
    """One question: ``analysis`` planned as Costing.best plans it with ``config``, the planner seeing
    exactly ``present`` on its tables (credited to ``positions``, as whatif.Hypothetical.ensure)."""

    analysis: Analysis
    config: list[Candidate]
    present: list[Candidate]
    positions: Mapping[Ident, int] | None = None


def pipelined(costing: Planner[P], hypo: Hypothetical | None, asks: list[Ask]) -> list[P] | None:
    """Each question's ``best`` answer, or None when any of them failed (ask them one at a time then)."""
    out: list[P | None] = [None] * len(asks)
    order = _grouped(asks, list(range(len(asks))))
    for start in range(0, len(asks), MAX_ASKS):
        if not _block(costing, hypo, asks, order[start:start + MAX_ASKS], out):
            return None
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


def _block(costing: Planner[P], hypo: Hypothetical | None, asks: list[Ask], order: list[int],
           out: list[P | None]) -> bool:
    conn = costing.conn
    # One READ ONLY transaction for the block's plans, not one each (explain_script.Shared).
    shared = None if conn.info.transaction_status == pq.TransactionStatus.INTRANS else Shared()
    waiting: list[tuple[int, list[Round]]] = []
    sent: list[Round] = []

    def read() -> None:
        if hypo is not None:
            hypo.received()
        for i, rounds in waiting:
            out[i] = costing.pick(asks[i].analysis, [r.plans() for r in rounds])
        waiting.clear()

    failure: Exception | None = None
    try:
        with Wire(conn) as wire:
            # Straight through libpq: psycopg's work per statement was a fifth of pgtune's CPU (Wire).
            try:
                for i in order:
                    ask = asks[i]
                    if hypo is not None and not hypo.queue(ask.present, ask.analysis.shape.tables, ask.positions,
                                                           wire):
                        wire.sync()
                        read()
                        queued = hypo.queue(ask.present, ask.analysis.shape.tables, ask.positions, wire)
                        assert queued      # nothing is waiting for its oid after a sync
                    texts: list[str | None] = [None, *costing.reorderings(ask.analysis, ask.config)]
                    rounds = costing.rounds(ask.analysis, texts)
                    for r in rounds:
                        r.send(conn, shared, hypo.kept if hypo is not None else None, wire)
                    sent.extend(rounds)
                    waiting.append((i, rounds))
                    wire.flush()    # the server plans this question while the next is made
                if shared is not None:
                    shared.close(wire)
            except (psycopg.Error, ValueError) as exc:
                # Raised once the pipeline block is left (as explain.Round.run does).
                failure = exc
        if failure is None:
            read()          # leaving the block synced the rest: one round trip
    except psycopg.Error as exc:
        failure = failure or exc
    except BaseException:
        # Ctrl-C, say: end the transaction and free the names where the session can still hear it.
        if not lost(conn):
            _recover(conn, sent)
            if hypo is not None:
                hypo.forget()
        raise
    if failure is None:
        return True
    if lost(conn):
        raise failure
    _recover(conn, sent)
    if hypo is not None:
        hypo.forget()
    return False


def _recover(conn: psycopg.Connection[Any], sent: list[Round]) -> None:
    """End the transaction a failure left open and free the names the Rounds prepared."""
    end_failed(conn, bool(sent) and sent[0].nested)
    for name in sorted({n for r in sent for n in r.names}):
        deallocate(conn, name)
