"""A new index that leads with an existing index's column must win by more on a written table (c24).

After ``UserHistory ("userUid", "executedOn", "reqType")`` was built (Hoppscotch's history, inserted into all day),
``WHERE "userUid" = $1 AND "reqType" = $2 ORDER BY "executedOn" DESC LIMIT $3`` still planned 1.2x cheaper with
``("userUid", "reqType", "executedOn" DESC)``, +40 MB, one statement 6.6% of the workload: the step passed
MIN_STEP_SHARE, MIN_GAIN and its upkeep. A DBA would not add it: the existing index already finds that user's rows
and reads them in order, filtering ``reqType`` in the index; the second one doubles the table's index writes on
``"userUid"`` for a few index tuples less per call. Such an add (an index sharing its leading column with an
existing b-tree of a table the workload writes, and going on differently: not the existing keys and more, which
is the existing index widened, e.g. ``("workspaceId", "createdAt")`` beside Prisma's ``@@index([workspaceId])``)
is taken only when it makes a statement at least OVERLAP_CUT times cheaper and saves OVERLAP_SHARE of the
workload's cost, or saves OVERLAP_CARRY of it whatever the cut, or makes a statement OVERLAP_SERVED times
cheaper whatever the saving (the existing index does not serve that statement); otherwise the advice says why,
naming the existing index.
"""

from __future__ import annotations

from collections.abc import Callable

from ..capture import Catalog
from ..ddl import IndexKey
from .candidates import Candidate, index_keys

OVERLAP_CUT = 2.0       # a statement at least this many times cheaper…
OVERLAP_SHARE = 0.02    # …and this share of the workload's cost saved
# A saving this large carries it whatever the cut: a 1.5x cut on a statement that is 15% of the workload, which
# a DBA takes (2.5x OVERLAP_SHARE, 25x MIN_STEP_SHARE; the Hoppscotch case saved 0.9%).
OVERLAP_CARRY = 0.05
# A cut this large carries it whatever the saving: the existing index does not serve that statement (r23: with
# ("workspaceId", "createdAt") built, ("workspaceId", "title") for a workspace's page ORDER BY title LIMIT 20 cut
# it 70x at 0.6% of the workload, was left out, and ("title") alone was taken in its place: the same writes, and
# a plan that walks the whole title index filtering for the workspace).
OVERLAP_SERVED = 10.0

Leading = Callable[[Candidate], str | None]


def leading_twin(catalog: Catalog) -> Leading:
    """The name of an existing valid, full b-tree on the candidate's table that leads with its first key and goes
    on otherwise, or None (also when one is the candidate's prefix: the candidate widens it)."""
    def find(cand: Candidate) -> str | None:
        if not cand.keys:
            return None
        twin = None
        for index in catalog.indexes_on(cand.table):
            keys = index_keys(index)
            if not keys or index.predicate is not None or not _same(keys[0], cand.keys[0]):
                continue
            if len(keys) <= len(cand.keys) and all(map(_same, keys, cand.keys)):
                return None     # ``cand`` is this index widened (emit drops the narrower one): no second index
            twin = twin or index.name
        return twin
    return find


def _same(a: IndexKey, b: IndexKey) -> bool:
    return a.column == b.column and a.expression == b.expression


def strong(cut: float, saving: float, base: float) -> bool:
    """Does an overlapping add win by enough: ``cut`` its best statement's cost ratio (before / after)?"""
    return (cut >= OVERLAP_SERVED or saving >= OVERLAP_CARRY * base
            or (cut >= OVERLAP_CUT and saving >= OVERLAP_SHARE * base))


def left_out(cand: Candidate, existing: str, costs: dict[int, float], current: dict[int, float], saving: float,
             base: float) -> str | None:
    """Why an add that overlaps ``existing`` is left out (None: it wins by enough): ``costs`` its statements' with
    it, ``current`` theirs before it, ``base`` the workload's with no new index."""
    cut = max((current[p] / c for p, c in costs.items() if c > 0), default=1.0)
    return None if strong(cut, saving, base) else note(cand, existing, cut, saving / base if base else 0.0)


def note(cand: Candidate, existing: str, cut: float, share: float) -> str:
    """Why an overlapping add was left out, for the advice's hints."""
    keys = ", ".join((k.expression or f'"{k.column}"') + (" DESC" if k.descending else "") for k in cand.keys)
    schema, table = cand.table
    return (f'({keys}) on {schema}."{table}" not proposed: the existing index "{existing}" leads with the same '
            f"column and already serves its statements; on a table the workload writes a second such index must "
            f"make a statement {OVERLAP_CUT:.0f}x cheaper and save {OVERLAP_SHARE:.0%} of the workload's cost, or "
            f"save {OVERLAP_CARRY:.0%}, or make it {OVERLAP_SERVED:.0f}x cheaper (it would: {cut:.1f}x, {share:.1%})")
