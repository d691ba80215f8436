"""How one index is built, removed or restored, as the steps of a script and the comments above them.

A plain index is one CREATE INDEX CONCURRENTLY. PostgreSQL refuses
CONCURRENTLY on a partitioned table, so an index there is built the
non-blocking way of the PostgreSQL docs (ddl-partitioning, "Partition
Maintenance"): ``CREATE INDEX … ON ONLY`` the parent (INVALID, it builds
nothing), then for every partition, sub-partitions followed down, its own
index (CONCURRENTLY on a leaf, ON ONLY again on a sub-partitioned one) and
``ALTER INDEX … ATTACH PARTITION``, one step each, so that a run stopped
anywhere resumes where it stopped. The parent index turns valid with its last
partition's attach; from then on PostgreSQL builds it on every new partition.
"""

from __future__ import annotations

from .. import ddl
from .model import ExistingIndex, IndexFix, PartitionIndex, PlannedIndex
from .steps import Action, Name, ObjectKind, Step

Item = str | Step        # a script line (a comment, a blank) or a step


def c(text: str) -> str:
    """A comment line; anything read from the database goes through ddl.comment."""
    return "-- " + ddl.comment(text)


def squawk_ignore(rule: str, reason: str) -> list[Item]:
    """The lines above a statement whose leading keyword breaks a squawk rule on purpose, and why."""
    return [c(reason), f"-- squawk-ignore {rule}"]


ON_ONLY_REASON = ("ON ONLY builds nothing and takes a brief SHARE lock on the parent, under lock_timeout; "
                  "CONCURRENTLY is refused on a partitioned table.")
PLAIN_DROP_REASON = ("A partitioned index refuses DROP INDEX CONCURRENTLY: this one takes its lock under "
                     "lock_timeout, briefly (the catalog only), and removes its partitions' indexes with it.")


def children(partitions: list[PartitionIndex], parent: Name) -> list[PartitionIndex]:
    return [p for p in partitions if Name(p.parent_schema, p.parent) == parent]


def _tables(partitions: list[PartitionIndex], parent: Name) -> tuple[Name, ...]:
    return tuple(Name(p.schema, p.table) for p in children(partitions, parent))


def partition_steps(partitions: list[PartitionIndex], parent: Name, definition: str) -> list[Item]:
    """Each partition's index under ``parent``, then its attach; a sub-partitioned one's own partitions first.

    ``definition``: the parent's CREATE INDEX, re-aimed at each partition
    (a partition's own ``definition``, when it has one, is used as it is).
    """
    out: list[Item] = []
    for p in children(partitions, parent):
        me = Name(p.schema, p.name)
        if p.partitioned:
            own = (ddl.recreate_index(p.definition, partitioned=True) if p.definition
                   else ddl.index_on(definition, p.schema, p.table, p.name, only=True))
            out += [*squawk_ignore("require-concurrent-index-creation", ON_ONLY_REASON),
                    Step(ObjectKind.INDEX_ON_ONLY, Action.CREATE, p.schema, p.name, (own,), table=p.table,
                         definition=own, parent=parent, partitions=_tables(partitions, me),
                         undo=(ddl.drop_index(p.schema, p.name, concurrently=False),))]
            out += partition_steps(partitions, me, definition)
        else:
            own = (ddl.recreate_index(p.definition) if p.definition
                   else ddl.index_on(definition, p.schema, p.table, p.name))
            out.append(Step(ObjectKind.INDEX, Action.CREATE, p.schema, p.name, (own,), table=p.table,
                            definition=own, parent=parent, undo=(ddl.drop_index(p.schema, p.name),)))
        out.append(Step(ObjectKind.ATTACH, Action.CREATE, p.schema, p.name,
                        (ddl.attach_index(parent.schema, parent.name, p.schema, p.name),), table=p.table,
                        parent=parent))
    return out


def _on_only(schema: str, table: str, name: str, create: str, partitions: list[PartitionIndex]) -> list[Item]:
    """``partitions``: the partitions' indexes under it, one per direct partition the table had at emit."""
    me = Name(schema, name)
    return [*squawk_ignore("require-concurrent-index-creation", ON_ONLY_REASON),
            Step(ObjectKind.INDEX_ON_ONLY, Action.CREATE, schema, name, (create,), table=table, definition=create,
                 partitions=_tables(partitions, me), undo=(ddl.drop_index(schema, name, concurrently=False),))]


def build(ix: PlannedIndex, *, undo_comment: bool = False) -> list[Item]:
    """A planned index's steps in an up script (``undo_comment``: with its undo, for a folder with no down file)."""
    out: list[Item] = [c(ix.reason)]
    if not ix.partitioned:
        if undo_comment:
            out.append(c(f"To undo: {ix.rollback};"))
        return [*out, Step(ObjectKind.INDEX, Action.CREATE, ix.schema, ix.name, (ix.ddl,), table=ix.table,
                           definition=ix.ddl, undo=(ix.rollback,))]
    out.append(c(f"{ddl.qualified(ix.schema, ix.table)} is partitioned: the index is made ON ONLY the parent, then "
                 f"built CONCURRENTLY on each of its {sum(not p.partitioned for p in ix.partitions)} leaf "
                 "partitions and attached; it is valid (and used) once the last one is attached."))
    if undo_comment:
        out.append(c("To undo, in this order (the partitioned index takes the partitions' indexes attached to it; "
                     "a run stopped before an attach leaves that partition's index alone):"))
        out += [c(f"  {st};") for st in undo_statements(ix)]
    create = ddl.index_on(ix.ddl, ix.schema, ix.table, ix.name, only=True)
    return [*out, *_on_only(ix.schema, ix.table, ix.name, create, ix.partitions),
            *partition_steps(ix.partitions, Name(ix.schema, ix.name), ix.ddl)]


def for_tools(ix: PlannedIndex) -> list[Step]:
    """A partitioned index's steps in the order a migration tool's layout runs them: every ON ONLY, every build,
    then every attach. Prisma puts a phase's statements that may share a file in one, after the builds before
    them: an attach there must follow every build it attaches."""
    steps = [i for i in build(ix) if isinstance(i, Step)]
    return sorted(steps, key=lambda st: {ObjectKind.INDEX_ON_ONLY: 0, ObjectKind.INDEX: 1}.get(st.kind, 2))


def remove(ix: PlannedIndex) -> list[Item]:
    """A planned index's steps in a down script: exactly what its up steps may have built."""
    if not ix.partitioned:
        return [Step(ObjectKind.INDEX, Action.DROP, ix.schema, ix.name, (ix.rollback,), table=ix.table)]
    return _remove_partitioned(ix.schema, ix.table, ix.name, ix.partitions)


def undo_statements(ix: PlannedIndex) -> list[str]:
    """Every statement of ``remove(ix)``, in its order: what a tool with no down file lists under "To undo"."""
    return [st.text for st in remove(ix) if isinstance(st, Step)]


def _remove_partitioned(schema: str, table: str, name: str, partitions: list[PartitionIndex], *,
                        definition: str = "") -> list[Item]:
    """The partitioned index first (its attached partitions' indexes go with it), then any left unattached.

    A run stopped before an attach leaves that partition's index (or a
    sub-partitioned one's, with what is attached to it) standing alone: each
    is dropped on its own, if it is still there.
    """
    out: list[Item] = [*squawk_ignore("require-concurrent-index-deletion", PLAIN_DROP_REASON),
                       Step(ObjectKind.PARTITIONED_INDEX, Action.DROP, schema, name,
                            (ddl.drop_index(schema, name, concurrently=False),), table=table,
                            definition=definition)]
    if partitions:
        out.append("-- A partition's index is left alone only by a run stopped before its attach:")
    for p in partitions:
        if p.partitioned:
            out += [*squawk_ignore("require-concurrent-index-deletion", PLAIN_DROP_REASON),
                    Step(ObjectKind.PARTITIONED_INDEX, Action.DROP, p.schema, p.name,
                         (ddl.drop_index(p.schema, p.name, concurrently=False),), table=p.table)]
        else:
            out.append(Step(ObjectKind.INDEX, Action.DROP, p.schema, p.name, (ddl.drop_index(p.schema, p.name),),
                            table=p.table))
    return out


def _kind(e: ExistingIndex) -> ObjectKind:
    return ObjectKind.PARTITIONED_INDEX if e.partitioned else ObjectKind.INDEX


def drop_existing(e: ExistingIndex, *, undo_comment: bool = False) -> list[Item]:
    """An existing index dropped (health): CONCURRENTLY, or plainly when partitioned."""
    out: list[Item] = [c(e.reason), c("Definition at emit: " + e.definition)]
    if undo_comment:
        out += [c("To undo: " + st + ";") for st in e.restore]
    stmt = ddl.drop_index(e.schema, e.name, concurrently=not e.partitioned)
    if e.partitioned:
        out += squawk_ignore("require-concurrent-index-deletion", PLAIN_DROP_REASON)
    return [*out, Step(_kind(e), Action.DROP, e.schema, e.name, (stmt,), table=e.table, definition=e.definition,
                       undo=tuple(e.restore), relies_on=Name(e.schema, e.served_by) if e.served_by else None)]


def restore_existing(e: ExistingIndex) -> list[Item]:
    """A dropped index built again exactly as it was (``e.restore``): its partitions' indexes too."""
    if not e.restore:
        return []
    build_it, *properties = e.restore
    if e.partitioned:
        out = [*_on_only(e.schema, e.table, e.name, build_it, e.partitions),
               *partition_steps(e.partitions, Name(e.schema, e.name), e.definition)]
    else:
        out = [Step(ObjectKind.INDEX, Action.CREATE, e.schema, e.name, (build_it,), table=e.table,
                    definition=build_it)]
    for st in properties:
        if st.startswith("ALTER TABLE ") and " CLUSTER ON " in st:      # ddl.cluster_on
            out += squawk_ignore("prefer-robust-stmts", "CLUSTER ON only marks the index: run twice, it sets the "
                                 "same mark.")
        out.append(Step(_kind(e), Action.ALTER, e.schema, e.name, (st,), table=e.table))
    return out


UNCOMPLETE_HEAD = ("To undo, in this order (no partition's index can be detached: the partitioned index is dropped "
                   "and made again as it was at emit):")


def uncomplete_statements(e: ExistingIndex) -> list[str]:
    """Every statement of ``uncomplete(e)``, in its order: what a tool with no down file lists under "To undo"."""
    return [st.text for st in uncomplete(e) if isinstance(st, Step)]


def uncomplete(e: ExistingIndex) -> list[Item]:
    """A completed partitioned index put back as it was at emit (COMPLETE's down).

    PostgreSQL cannot detach a partition's index from its parent, so the
    partitioned index is dropped (the partitions' indexes attached to it go
    with it), then made again ON ONLY with the partitions' indexes it had at
    emit, each built CONCURRENTLY and attached; a twin the up script attached
    stands alone again. Apply skips all of it while nothing was attached yet.
    """
    built = [p for p in e.partitions if not p.definition]
    twins = [p for p in e.partitions if p.definition and not p.partitioned]
    out: list[Item] = [c(f"{ddl.qualified(e.schema, e.name)} back as it was at emit: ON ONLY, with "
                         f"{len(e.attached)} partitions' indexes attached (no partition's index can be detached).")]
    out += _remove_partitioned(e.schema, e.table, e.name, built, definition=e.definition)
    build_it, *properties = e.restore
    out += [*_on_only(e.schema, e.table, e.name, build_it, e.attached + e.partitions),
            *partition_steps(e.attached, Name(e.schema, e.name), e.definition),
            *(Step(ObjectKind.PARTITIONED_INDEX, Action.ALTER, e.schema, e.name, (st,), table=e.table)
              for st in properties)]
    for p in twins:
        own = ddl.recreate_index(p.definition)
        out.append(Step(ObjectKind.INDEX, Action.CREATE, p.schema, p.name, (own,), table=p.table, definition=own))
    return out


def rebuild_existing(e: ExistingIndex, *, undo_comment: bool = False) -> list[Item]:
    """A REINDEX, a drop-and-build-again of an INVALID index, or a partitioned index's missing partitions
    (``undo_comment``: with what puts the last back as it was, for a folder with no down file)."""
    out: list[Item] = [c(e.reason), c("Definition at emit: " + e.definition)]
    if e.fix == IndexFix.REINDEX:
        return [*out, Step(_kind(e), Action.REBUILD, e.schema, e.name, (ddl.reindex(e.schema, e.name),),
                           table=e.table, definition=e.definition)]
    if e.fix == IndexFix.COMPLETE:
        out.append("-- Each partition without its index gets it, built CONCURRENTLY and attached: the")
        out.append("-- partitioned index turns valid with the last attach.")
        if undo_comment:
            out += [c(UNCOMPLETE_HEAD), *(c(f"  {st};") for st in uncomplete_statements(e))]
        return out + partition_steps(e.partitions, Name(e.schema, e.name), e.definition)
    build_it = e.restore[0] if e.restore else ddl.recreate_index(e.definition)
    return [*out, Step(ObjectKind.INDEX, Action.DROP, e.schema, e.name, (ddl.drop_index(e.schema, e.name),),
                       table=e.table, definition=e.definition),
            Step(ObjectKind.INDEX, Action.CREATE, e.schema, e.name, (build_it,), table=e.table,
                 definition=build_it)]
