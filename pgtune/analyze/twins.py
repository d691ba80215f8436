"""Which proposal is the covering twin of an existing index (analyze.candidates.replacing).

A twin has the existing index's keys, directions and predicate and a wider
INCLUDE: built, it serves every statement the old one served, so the old one
is dropped in the migration's last phase (health.replaced). Where the old one
must stay (a migration tool made it, a partitioned table's, a layout with no
drop phase), the twin would be a second index with the same keys, only more
writes: it is not proposed (r9's finding on the covering twin).
"""

from __future__ import annotations

from ..capture import Catalog
from .bind import normalize_expression
from .candidates import index_keys
from .covering import plain
from .model import IndexSuggestion


def twin_of(ix: IndexSuggestion, catalog: Catalog) -> str | None:
    """The existing index ``ix`` is the covering twin of, or None."""
    if str(ix.method) != "btree" or not ix.include or any(ix.expressions or ()):
        return None
    for old in catalog.indexes_on((ix.schema, ix.table)):
        keys = index_keys(old)
        if keys is None or old.is_unique or old.is_primary or not plain(old):
            continue
        if [k.column for k in keys] != list(ix.columns) or [k.descending for k in keys] != list(ix.descending):
            continue
        if _predicate(old.predicate) == _predicate(ix.where) and set(old.include) <= set(ix.include):
            return old.name
    return None


def _predicate(text: str | None) -> str | None:
    return normalize_expression(text) if text else None
