"""A GiST index that leads with a foreign key's columns, each by an operator class with ``=``, serves its checks.

``EXCLUDE USING gist ("organizationId" WITH =, period WITH &&)`` (btree_gist)
is how a table keeps each tenant's periods apart; the check a delete on the
parent runs (``WHERE "organizationId" = $1``) plans a scan of its index, which
a GiST answers through its leading columns. A b-tree beside it for the key
would only cost writes (p20, on a Formbricks-shaped database: health called
the key unindexed and built one).
"""

from __future__ import annotations

from ..capture import ForeignKey, Index


def gist_serves(index: Index, fk: ForeignKey) -> bool:
    """Does the GiST ``index`` lead with all of ``fk``'s columns (any order), each with an ``=`` to search by?"""
    n = len(fk.columns)
    return (index.method == "gist" and index.is_valid and index.predicate is None
            and len(index.columns) >= n and len(index.equality) >= n
            and set(index.columns[:n]) == set(fk.columns) and all(index.equality[:n]))
