"""Before a step runs: is its work done already, is its object pgtune's, has it changed since emit?

Crashes are reconciled from the catalog, not from a "dirty" flag: an index
that exists, is valid and has the planned definition is done; an INVALID
leftover of an interrupted concurrent build is dropped and built again; a
partition's index already attached to its parent is done. What exists is
compared by definition, not by name, and the history records the OID of
every object pgtune built, so rollback drops only what this migration created.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import ddl
from .._text import one_line
from ..errors import ApplyFailed
from ..history import History, StepStatus
from ..plan import Action, Direction, ExistingIndex, IndexFix, Name, ObjectKind, Phase, Step
from .catalog import IndexState, ObjectStates
from .report import Outcome, StepResult


class StepGuard:
    """One phase run's view of what exists; ``drop_invalid(schema, name)`` clears a failed build's leftover."""

    def __init__(self, states: ObjectStates, history: History, phase: Phase, direction: Direction, checksum: str,
                 drop_invalid: Callable[[str, str], None]) -> None:
        self.states, self.history, self.phase = states, history, phase
        self.direction, self.checksum, self.drop_invalid = direction, checksum, drop_invalid
        self.foreign: set[Name] = set()    # partitioned indexes that exist and are not this migration's
        self.notes: dict[str, str] = {}    # a step run, by its text -> what its report row says of it

    def skip(self, step: Step, note: str, *, owned: bool | None = None, oid: int | None = None) -> StepResult:
        self.history.log(self.phase.number, self.direction, step.text, self.checksum, StepStatus.SKIPPED, step.key,
                         owned=owned, oid=oid, note=note)
        return StepResult(self.phase.number, step.text, Outcome.SKIPPED, note)

    def before(self, step: Step) -> StepResult | None:
        """None to run the step; else why it is skipped (an error where running it would do harm)."""
        if step.parent is not None and step.parent in self.foreign:
            if step.kind == ObjectKind.INDEX_ON_ONLY:
                self.foreign.add(Name(step.schema, step.name))
            return self.skip(step, f"{step.parent} already existed, not built by this migration: left as it is")
        if step.action == Action.CREATE:
            if step.kind == ObjectKind.ATTACH:
                return self._before_attach(step)
            if step.is_index:
                return self._before_index(step)
            if step.kind == ObjectKind.CONSTRAINT and self.direction == Direction.UP:
                return self._before_constraint(step)
            if step.kind == ObjectKind.EXTENSION and self.direction == Direction.UP:
                return self._before_extension(step)
            if step.kind == ObjectKind.STATISTICS and self.direction == Direction.UP:
                return self._before_statistics(step)
        if step.action in (Action.DROP, Action.REBUILD):
            return self._before_existing(step) if self.direction == Direction.UP else self._before_rollback(step)
        return None

    def _ours(self, step: Step, oid: int) -> bool:
        """Did this migration make the object: its history owns this OID, or a run of it died making it.

        Going down, a restore (health's rollback) is never pgtune's, but what a
        stopped rollback half restored is this rollback's to finish.
        """
        key = step.key or ""
        own = self.history.ownership(key)
        if self.direction == Direction.DOWN:
            return bool(own and own.direction == Direction.DOWN) or self.history.attempted(key, Direction.DOWN)
        # A run that died (its row still 'running', or marked so by the next) may have made it; one whose step failed
        # or was interrupted made nothing that lasts (its INVALID leftover dropped): what exists is another's (r22).
        return bool(own and own.owned and own.oid == oid) or self.history.died_making(key)

    def _before_index(self, step: Step) -> StepResult | None:
        st = self.states.index(step.schema, step.name)
        if st is None:
            if step.parent is not None:
                have = self.states.indexed_under(step.parent, step.schema, step.table)
                if have is not None:
                    return self.skip(step, f"partition {ddl.qualified(step.schema, step.table)} already has its "
                                     f"index under {step.parent} ({have})")
            return None
        if not ddl.same_index(step.definition, st.definition):
            raise ApplyFailed(
                f"phase {self.phase.number}: {step.label} already exists with another definition "
                f"({one_line(st.definition, 200)}); pgtune will neither adopt nor replace it: "
                "rename or drop it, or re-emit the migration (emit picks a free name)")
        ours = self._ours(step, st.oid)
        if step.kind == ObjectKind.INDEX_ON_ONLY:
            if ours:
                made = " (made by this migration)" if self.direction == Direction.UP else ": nothing to restore"
                return self.skip(step, "partitioned index exists" + made,
                                 owned=True if self.direction == Direction.UP else None, oid=st.oid)
            if not st.valid:
                raise ApplyFailed(
                    f"phase {self.phase.number}: {step.label} already exists, INVALID (some partition has no index "
                    "attached to it), and was not made by this migration: pgtune will neither complete nor drop it; "
                    "complete it (pgtune health --emit) or drop it, then apply again")
            self.foreign.add(Name(step.schema, step.name))
            return self.skip(step, "an identical partitioned index of this name already existed; it is not "
                             "pgtune's: its partitions are left as they are, and rollback leaves it")
        if not st.valid:
            self.drop_invalid(step.schema, step.name)
            self.notes[step.text] = "built again: its INVALID leftover (a failed or killed build) was dropped first"
            return None
        if self.direction == Direction.DOWN:
            return self.skip(step, "index exists and is valid: nothing to restore", oid=st.oid)
        if ours:
            return self.skip(step, "index exists and is valid (built by this migration)", owned=True, oid=st.oid)
        return self._adopt(step, st.oid)

    def _adopt(self, step: Step, oid: int) -> StepResult:
        """An index (valid) or CHECK exactly as planned, under the name emit found free: this phase's script run by
        hand (the README lets psql run it). It is adopted, so that rollback drops it, unless another pgtune
        migration owns it or a migration tool that may have made it manages the database (u2's R1)."""
        key = step.key or ""
        other = self.history.owner_elsewhere(key, oid)
        deployed = self.states.prisma_deployed(step.name) if step.is_index and other is None else None
        ledger = None if step.name.endswith("pgtune_idx") else self.states.migration_ledger()
        if other is None and ledger is None and deployed is None:
            return self.skip(step, f"built outside pgtune apply ({self.phase.up_file} run by hand?), exactly as "
                             "planned: adopted, rollback drops it", owned=True, oid=oid)
        whose = (f"migration {other} built it" if other is not None else
                 f"Prisma Migrate deployed pgtune's {deployed}" if deployed is not None else
                 f"{ledger} says a migration tool manages this database and may have made it")
        what = "index" if step.is_index else "constraint"
        return self.skip(step, f"an identical {what} of this name exists ({whose}): not pgtune's to adopt, rollback "
                         f"leaves it; if {self.phase.up_file} built it, run {self.phase.down_file} by hand",
                         owned=False, oid=oid)

    def _before_attach(self, step: Step) -> StepResult | None:
        assert step.parent is not None
        st = self.states.index(step.schema, step.name)
        if st is not None and st.parent == step.parent:
            return self.skip(step, f"already attached to {step.parent}")
        if st is None:
            have = self.states.indexed_under(step.parent, step.schema, step.table)
            if have is not None:
                return self.skip(step, f"partition {ddl.qualified(step.schema, step.table)} already has its index "
                                 f"under {step.parent} ({have})")
        return None

    def _before_constraint(self, step: Step) -> StepResult | None:
        con = self.states.constraint(step.schema, step.table, step.name)
        if con is None:
            return None
        if self._ours(step, con.oid):
            return self.skip(step, "constraint exists (created by this migration)", owned=True, oid=con.oid)
        if not self.states.same_check(step.schema, step.table, step.name, step.sql[0]):
            raise ApplyFailed(
                f"phase {self.phase.number}: {step.label} already exists with another rule and was not created by "
                "this migration; pgtune will not adopt it (rollback would drop it): rename or drop it, or re-emit")
        return self._adopt(step, con.oid)      # the same rule: this phase's script run by hand (psql)

    def _before_extension(self, step: Step) -> StepResult | None:
        """An extension already installed is left as it is; it is pgtune's only if this migration made it."""
        ext = self.states.extension(step.name)
        if ext is None:
            return None
        if self._ours(step, ext.oid):
            return self.skip(step, "extension installed (by this migration)", owned=True, oid=ext.oid)
        return self.skip(step, f"extension {step.name} {ext.version} was installed already (in {ext.schema}): "
                         "not pgtune's, rollback leaves it", owned=False, oid=ext.oid)

    def _before_statistics(self, step: Step) -> StepResult | None:
        st = self.states.statistics(step.schema, step.name)
        if st is None:
            return None
        if not ddl.same_statistics(step.sql[0], st.definition):
            raise ApplyFailed(
                f"phase {self.phase.number}: {step.label} already exists with another definition "
                f"({one_line(st.definition, 200)}); pgtune will neither adopt nor replace it: drop or rename it, "
                "or re-emit the migration")
        ours = self._ours(step, st.oid)
        note = ("statistics exist (created by this migration)" if ours else
                "identical statistics of this name already existed; they are not pgtune's: rollback leaves them")
        return self.skip(step, note, owned=ours, oid=st.oid)

    def _before_existing(self, step: Step) -> StepResult | None:
        """An existing index a health phase drops or rebuilds must still have the definition it had at emit."""
        if not step.is_index:
            return None
        st = self.states.index(step.schema, step.name)
        if st is None:
            if step.action == Action.REBUILD:
                raise ApplyFailed(f"phase {self.phase.number}: {step.label} no longer exists: nothing to rebuild; "
                                  "re-run pgtune health")
            return self.skip(step, "already gone", owned=False)
        if not ddl.same_index(step.definition, st.definition) or st.partitioned != (
                step.kind == ObjectKind.PARTITIONED_INDEX):
            raise ApplyFailed(
                f"phase {self.phase.number}: {step.label} has changed since emit (now {one_line(st.definition, 200)}); "
                "pgtune will not drop or rebuild an index it did not review: re-run pgtune health --emit")
        if step.action == Action.DROP and step.relies_on is not None:
            keeper = self.states.index(step.relies_on.schema, step.relies_on.name)
            if keeper is None or not keeper.valid:
                raise ApplyFailed(
                    f"phase {self.phase.number}: {step.label} is dropped only once {step.relies_on}, which serves "
                    f"in its place, is built and valid; it is {'not built' if keeper is None else 'INVALID'}: "
                    "apply the phase that builds it first")
        return None

    def _before_rollback(self, step: Step) -> StepResult | None:
        """Rollback drops only what this migration created (or a partitioned index it completed, to restore it)."""
        completed = self.phase.existing_index(step.schema, step.name)
        if completed is not None and completed.fix == IndexFix.COMPLETE and step.is_index:
            return self._before_uncomplete(step, completed)
        own = self.history.ownership(step.key or "")
        oid: int | None = None
        if step.is_index:
            st = self.states.index(step.schema, step.name)
            present, oid = st is not None, (st.oid if st else None)
            if st is not None and (not st.valid or own is None) and self._built_by_a_run(step, st):
                self.notes[step.text] = "" if st.valid else "INVALID, left by a failed build of this migration"
                return None
        elif step.kind == ObjectKind.CONSTRAINT:
            con = self.states.constraint(step.schema, step.table, step.name)
            present, oid = con is not None, (con.oid if con else None)
        elif step.kind == ObjectKind.STATISTICS:
            stx = self.states.statistics(step.schema, step.name)
            present, oid = stx is not None, (stx.oid if stx else None)
        elif step.kind == ObjectKind.EXTENSION:
            ext = self.states.extension(step.name)
            present, oid = ext is not None, (ext.oid if ext else None)
            if ext is not None and ext.users:
                # DROP EXTENSION would refuse (RESTRICT), or worse with CASCADE: what uses it stays, so does it.
                return self.skip(step, f"{step.label} is used by {', '.join(ext.users[:3])}"
                                 f"{' …' if len(ext.users) > 3 else ''}: left in place", owned=False)
        else:
            present = self.states.column_not_null(step.schema, step.table, step.name)
        if not present:
            note = "already gone"
        elif own is None or not own.owned or own.direction != Direction.UP or (oid is not None and own.oid != oid):
            note = (f"{step.label} was not created by this migration: left in place (if {self.phase.up_file} "
                    f"built it by hand, run {self.phase.down_file} by hand)")
        else:
            return None
        return self.skip(step, note, owned=False)

    def _built_by_a_run(self, step: Step, st: IndexState) -> bool:
        """Is the index of ``step``'s name, whose OID this migration did not record, one of its builds: the INVALID
        leftover of an interrupted or failed build (c19), or the index a run that died built before it could record
        the OID (p23). Either has the planned definition. A valid one after a build that failed or was interrupted
        (that run dropped its leftover) is someone else's, the application's of the same name: rollback dropped it
        after p23 (r22)."""
        key = step.key or ""
        if not (self.history.died_making(key) if st.valid else self.history.attempted(key)):
            return False
        planned = next((s.definition for s in self.phase.steps(Direction.UP)
                        if s.key == key and s.action == Action.CREATE and s.definition), None)
        return planned is not None and ddl.same_index(planned, st.definition)

    def _before_uncomplete(self, step: Step, completed: ExistingIndex) -> StepResult | None:
        """The partitioned index a phase completed is dropped, to be made again as it was, only if it gained
        a partition's index from this migration; one changed since emit is refused."""
        st = self.states.index(step.schema, step.name)
        if st is None:
            return self.skip(step, "already gone", owned=False)
        if not ddl.same_index(step.definition, st.definition):
            raise ApplyFailed(
                f"phase {self.phase.number}: {step.label} has changed since emit (now {one_line(st.definition, 200)}); "
                "pgtune will not drop an index it did not review: restore it by hand")
        gained = {p.name for p in completed.partitions}
        if not any(a.index in gained for a in self.states.attached(Name(step.schema, step.name))):
            return self.skip(step, "no partition's index was attached to it by this migration: left as it is",
                             owned=False)
        return None

    def after(self, step: Step, was_not_null: bool) -> tuple[bool | None, int | None]:
        """(owned, oid) to record once a step ran."""
        if step.action == Action.DROP:
            return False, None       # gone: nothing of this migration's is left to roll back
        if step.action != Action.CREATE or self.direction == Direction.DOWN:
            return None, None        # a rebuild, a property, a restore: never pgtune's
        if step.is_index:
            st = self.states.index(step.schema, step.name)
            return (True, st.oid) if st else (None, None)
        if step.kind == ObjectKind.CONSTRAINT:
            con = self.states.constraint(step.schema, step.table, step.name)
            return (True, con.oid) if con else (None, None)
        if step.kind == ObjectKind.EXTENSION:
            ext = self.states.extension(step.name)
            return (True, ext.oid) if ext else (None, None)
        if step.kind == ObjectKind.STATISTICS:
            stx = self.states.statistics(step.schema, step.name)
            return (True, stx.oid) if stx else (None, None)
        if step.kind == ObjectKind.NOT_NULL:
            return (not was_not_null), None
        return None, None
