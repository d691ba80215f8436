"""Which of a migration's index phases are not in place, as apply's history tells it, for verify to say so.

Without it, verify on a rolled-back (or never applied) migration lists every target as failing with
"uses none of the indexes", and the reader is left to guess why; the history knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from . import catalog_sql
from ._text import error_text
from .apply import Applier, ObjectStates
from .errors import DatabaseError
from .history import PhaseState
from .plan import Migration, roots


@dataclass(frozen=True)
class PhaseNote:
    """An index phase whose indexes are not all there, and what the history says of it."""

    number: int
    name: str
    state: str                 # PhaseState: pending (never run by pgtune), rolled_back, failed, applied
    missing: list[str] = field(default_factory=list)

    def line(self, *, undone: bool = False) -> str:
        """``undone``: the migration is rolled back whole, so no statement is said to fail for it."""
        what = {PhaseState.ROLLED_BACK: "is rolled back", PhaseState.PENDING: "has not been applied",
                PhaseState.FAILED: "failed", PhaseState.APPLIED: "is applied"}[PhaseState(self.state)]
        n = len(self.missing)
        if not n:       # a failed phase whose indexes stand (none, or built): what it lacks is status's to list
            return (f"phase {self.number} ({self.name}) {what}: pgtune status lists what its run has not made; "
                    "pgtune apply finishes it, pgtune rollback undoes it")
        # A phase rolled back on purpose fails no statement (undone_by_rollback); any other absence does.
        tail = "" if undone else ", so the statements that need them fail here"
        if not undone and self.state == PhaseState.ROLLED_BACK:
            tail = ", so the statements that need only them are not checked"
        return (f"phase {self.number} ({self.name}) {what}: {n} of its indexes {'is' if n == 1 else 'are'} not "
                f"built or not valid ({', '.join(self.missing)})" + tail)


def not_in_place(conn: psycopg.Connection[Any], m: Migration, directory: Path) -> list[PhaseNote]:
    """Index phases with planned indexes absent now (one built outside pgtune, by psql or Flyway, counts as
    built; an index a health phase drops is not planned, so its absence is no note), and any phase whose run
    failed with its indexes in place (a CHECK phase's lock_timeout behind a long transaction: verify said nothing
    of it, r40)."""
    planned = [(ix.schema, ix.name) for p in m.phases for ix in p.indexes]
    found = ObjectStates(conn).indexes(planned) if planned else {}
    absent = {p.number: missing for p in m.phases
              if (missing := sorted(ix.name for ix in p.indexes
                                    if (ix.schema, ix.name) not in found or not found[(ix.schema, ix.name)].valid))}
    try:
        states: dict[int, str] = {p.number: str(p.state) for p in Applier(conn, directory).status().phases}
    except (DatabaseError, psycopg.errors.InsufficientPrivilege) as exc:
        if getattr(exc, "sqlstate", None) != "42501":
            raise
        if not absent:
            return []   # every index in place: a read-only or CI role verifies without the history (r11)
        # With one missing, only the history tells a rollback (nothing to verify) from a failure: its targets read
        # FAIL for a migration rolled back on purpose (n38). Exit 2, the one thing that answers it named.
        n = sum(map(len, absent.values()))
        raise DatabaseError(
            f"cannot verify migration {m.id}: {n} of its indexes {'is' if n == 1 else 'are'} not built, and only "
            f"pgtune's history says whether it was rolled back (nothing to verify) or failed, which this role may "
            f"not read: {error_text(exc)}", "42501").with_exit(2) from None
    return [PhaseNote(p.number, p.name, states.get(p.number, str(PhaseState.PENDING)), absent.get(p.number, []))
            for p in m.phases if p.number in absent or states.get(p.number) == PhaseState.FAILED]


def rolled_back(phases: list[PhaseNote]) -> dict[str, int]:
    """The planned indexes absent because their phase is rolled back: name -> phase number."""
    return {name: p.number for p in phases if p.state == PhaseState.ROLLED_BACK for name in p.missing}


def undone_by_rollback(phases: list[PhaseNote], expected: list[str], used: list[str]) -> str | None:
    """Why a target whose plan uses none of this migration's indexes is no failure: every index it was planned for
    is gone with a phase rolled back on purpose (v39: after ``rollback --phase 2`` its statements read FAIL, exit
    1, while phase 1 stayed applied and verified). None when it fails for something else."""
    gone = rolled_back(phases)
    if used or not expected or not set(expected) <= gone.keys():
        return None
    numbers = sorted({gone[n] for n in expected})
    return (f"not checked: {', '.join(expected)} rolled back with phase{'s' if len(numbers) > 1 else ''} "
            f"{', '.join(map(str, numbers))} (pgtune rollback); checked once applied again")


def rolled_back_whole(phases: list[PhaseNote], real_bytes: list[int | None], used: list[list[str]]) -> bool:
    """Every index phase not in place rolled back (the history says so), none of its indexes built, no target
    using one: nothing to verify, whose 1.0x cuts would measure nothing (c24)."""
    return bool(phases) and all(p.state == PhaseState.ROLLED_BACK for p in phases) \
        and all(b is None for b in real_bytes) and not any(used)


@dataclass(frozen=True)
class Built:
    """This migration's indexes by the names a plan shows: their own, and each partition's index."""

    parent_of: dict[str, str]
    whose: str = "this migration's indexes"     # what a failing target's plan uses none of (verify --query: c26)

    def used(self, plan_indexes: frozenset[str]) -> list[str]:
        return sorted({self.parent_of[n] for n in plan_indexes if n in self.parent_of})


def built_indexes(conn: psycopg.Connection[Any], m: Migration) -> Built:
    """The planned indexes, and every index under them: the partitions' indexes of each one's recipe (the
    manifest's steps), and any attached since (pg_inherits, any depth: a partition created after apply)."""
    planned = [(ix.schema, ix.name) for p in m.phases for ix in p.indexes]
    parent_of = {name: name for _, name in planned}
    for p in m.phases:
        if p.indexes:
            for made, top in roots(p.up).items():
                parent_of.setdefault(made.name, top.name)
    if planned:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.load("partition_indexes"),
                        {"schemas": [s for s, _ in planned], "names": [n for _, n in planned]})
            for r in cur.fetchall():
                parent_of.setdefault(r["child"], r["name"])
    return Built(parent_of)
