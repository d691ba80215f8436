"""Drift: what an applied phase's steps promised, checked against the catalog (status, and apply's skip test)."""

from __future__ import annotations

from .. import ddl
from ..plan import Action, Name, ObjectKind, Phase, Step
from .catalog import IndexState, ObjectStates


def problems(states: ObjectStates, phase: Phase) -> tuple[list[str], list[str]]:
    """(missing, invalid) objects of an applied phase, from its up steps.

    A partition's index and its attach are judged through their partitioned
    index: it is valid exactly when every partition's index is attached.
    """
    missing: list[str] = []
    invalid: list[str] = []
    steps = phase.up
    indexes = states.indexes([(s.schema, s.name) for s in steps if s.is_index])
    constraints = states.constraints([(s.schema, s.table, s.name) for s in steps if s.kind == ObjectKind.CONSTRAINT])
    columns = states.not_null([(s.schema, s.table, c) for s in steps
                               for c in ([s.name] if s.kind == ObjectKind.NOT_NULL else [s.helper_for] if s.helper_for
                                         else [])])
    for i, s in enumerate(steps):
        later = [t for t in steps[i + 1:] if t.key == s.key]
        if s.is_index and s.parent is None:
            _index(states, s, indexes.get((s.schema, s.name)), bool(later), missing, invalid)
        elif s.kind == ObjectKind.CONSTRAINT:
            if s.helper_for and columns.get((s.schema, s.table, s.helper_for)):
                continue          # the helper check did its job and was dropped
            con = constraints.get((s.schema, s.table, s.name))
            if con is None:
                missing.append(s.name)
            elif s.action == Action.VALIDATE and not con.validated:
                invalid.append(f"{s.name} (NOT VALID)")
        elif s.kind == ObjectKind.EXTENSION and s.action == Action.CREATE and states.extension(s.name) is None:
            missing.append(f"extension {s.name}")
        elif s.kind == ObjectKind.STATISTICS and s.action == Action.CREATE \
                and states.statistics(s.schema, s.name) is None:
            missing.append(s.name)
        elif (s.kind == ObjectKind.NOT_NULL and s.action == Action.CREATE
              and not columns.get((s.schema, s.table, s.name))):
            invalid.append(f"{s.table}.{s.name} (still nullable)")
    # A phase that completes an existing partitioned index holds only its partitions' steps: judge it too.
    made = {Name(s.schema, s.name) for s in steps if s.is_index}
    for root in sorted({s.parent for s in steps if s.parent is not None} - made, key=str):
        st = states.index(root.schema, root.name)
        if st is None:
            missing.append(root.name)
        elif not st.valid:
            invalid.append(root.name + _lacking(states, ObjectKind.PARTITIONED_INDEX, root))
    return missing, invalid


def _index(states: ObjectStates, s: Step, st: IndexState | None, rebuilt: bool, missing: list[str],
           invalid: list[str]) -> None:
    if s.action == Action.DROP:
        if st is not None and not rebuilt:
            invalid.append(f"{s.name} (still present)")
        return
    if s.action not in (Action.CREATE, Action.REBUILD):
        return
    if st is None:
        missing.append(s.name)
    elif s.definition and not ddl.same_index(s.definition, st.definition):
        invalid.append(f"{s.name} (different definition)")
    elif not st.valid:
        invalid.append(s.name + _lacking(states, s.kind, Name(s.schema, s.name)))


def _lacking(states: ObjectStates, kind: ObjectKind, index: Name) -> str:
    """For a partitioned index left INVALID: the partitions that have no valid index attached under it."""
    if kind not in (ObjectKind.INDEX_ON_ONLY, ObjectKind.PARTITIONED_INDEX):
        return ""
    bare = [ddl.qualified(a.table_schema, a.table) for a in states.attached(index)
            if a.index is None or not a.valid]
    return f" (partitions without a valid index under it: {', '.join(bare)})" if bare else ""


def built_outside(states: ObjectStates, phase: Phase) -> list[str]:
    """The indexes of a phase pgtune has not applied that exist anyway, valid and exactly as planned: its up
    script run by hand (psql), or the same index made by someone else; apply adopts the former (u2's R1)."""
    steps = [s for s in phase.up if s.kind == ObjectKind.INDEX and s.action == Action.CREATE and s.parent is None]
    found = states.indexes([(s.schema, s.name) for s in steps])
    return [s.name for s in steps if (st := found.get((s.schema, s.name))) is not None and st.valid
            and ddl.same_index(s.definition, st.definition)]


def leftovers(states: ObjectStates, phase: Phase) -> list[str]:
    """The INVALID indexes a failed run of the phase left (a leaf's included): a build cancelled while a transaction
    held its table could not drop what it left, and the next apply drops and rebuilds it (p14 F3)."""
    steps = [s for s in phase.up if s.kind == ObjectKind.INDEX and s.action == Action.CREATE]
    found = states.indexes([(s.schema, s.name) for s in steps])
    return [f"{s.name} (INVALID, left by a failed build: the next apply drops and rebuilds it)" for s in steps
            if (st := found.get((s.schema, s.name))) is not None and not st.valid and not st.partitioned]
