"""A new index that leads with an existing index's column must win by more on a written table (c24).

After ``UserHistory ("userUid", "executedOn", "reqType")`` was built (Hoppscotch's history, inserted into all day),
``WHERE "userUid" = $1 AND "reqType" = $2 ORDER BY "executedOn" DESC LIMIT $3`` still planned 1.2x cheaper with
``("userUid", "reqType", "executedOn" DESC)``, +40 MB, one statement 6.6% of the workload: the step passed
MIN_STEP_SHARE, MIN_GAIN and its upkeep. A DBA would not add it: the existing index already finds that user's rows
and reads them in order, filtering ``reqType`` in the index; the second one doubles the table's index writes on
``"userUid"`` for a few index tuples less per call. Such an add (an index sharing its leading column with an
existing b-tree of a table the workload writes) is taken only when it makes a statement at least
OVERLAP_CUT times cheaper and saves OVERLAP_SHARE of the workload's cost; otherwise the advice says why, naming
the existing index.
"""

from __future__ import annotations

from collections.abc import Callable

from ..capture import Catalog
from .candidates import Candidate, index_keys

OVERLAP_CUT = 2.0       # a statement at least this many times cheaper…
OVERLAP_SHARE = 0.02    # …and this share of the workload's cost saved

Leading = Callable[[Candidate], str | None]


def leading_twin(catalog: Catalog) -> Leading:
    """The name of an existing valid, full b-tree on the candidate's table that leads with its first key, or None."""
    def find(cand: Candidate) -> str | None:
        if not cand.keys:
            return None
        for index in catalog.indexes_on(cand.table):
            keys = index_keys(index)
            if keys and index.predicate is None and keys[0].column == cand.keys[0].column \
                    and keys[0].expression == cand.keys[0].expression:
                return index.name
        return None
    return find


def strong(cut: float, saving: float, base: float) -> bool:
    """Does an overlapping add win by enough: ``cut`` its best statement's cost ratio (before / after)?"""
    return cut >= OVERLAP_CUT and saving >= OVERLAP_SHARE * base


def note(cand: Candidate, existing: str, cut: float, share: float) -> str:
    """Why an overlapping add was left out, for the advice's hints."""
    keys = ", ".join((k.expression or f'"{k.column}"') + (" DESC" if k.descending else "") for k in cand.keys)
    schema, table = cand.table
    return (f'({keys}) on {schema}."{table}" not proposed: the existing index "{existing}" leads with the same '
            f"column and already serves its statements; on a table the workload writes a second such index must "
            f"make a statement {OVERLAP_CUT:.0f}x cheaper and save {OVERLAP_SHARE:.0%} of the workload's cost "
            f"(it would: {cut:.1f}x, {share:.1%})")
