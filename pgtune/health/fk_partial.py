"""foreign-key-without-index's fix for a mostly-NULL key: the index WHERE the key IS NOT NULL.

The key's checks (a parent's delete or key update runs ``... WHERE fk = $1``)
and its joins search by equality, which no NULL key satisfies: the planner
proves the predicate from them and the partial index serves both, at the
size of the rows that have a key (u12, Cal.com: Booking."reassignById",
100% NULL on 1.8M rows, 12 MB built full, 8 kB partial). Which keys, and the
predicate's text: analyze.null_keys (the same rule suggest's candidates use).
"""

from __future__ import annotations

from typing import Any

from .. import ddl
from ..analyze import Candidate, gist_serves, hash_serves, null_keys, serves_index, sizing
from ..capture import Catalog, ForeignKey, Index


def serves(index: Index, cand: Candidate, fk: ForeignKey) -> bool:
    """Is ``index`` the key's own index: on all its columns, whole or WHERE the key IS NOT NULL (the checks search
    by equality, which proves the predicate), or a hash index on its one column? Not one on part of the key."""
    return serves_index(null_keys.as_full(index, fk), cand) or hash_serves(index, fk) or gist_serves(index, fk)


def build(catalog: Catalog, fk: ForeignKey, name: str, keys: tuple[ddl.IndexKey, ...]) -> tuple[str, dict[str, Any]]:
    """The CREATE INDEX of ``fk``'s fix, and the evidence a partial one adds (none for a full one).

    ``forecast_bytes``: the partial index's forecast, from the rows with a key
    (pg_stats null_frac); ``full_forecast_bytes``: the full one's, for the DBA
    to weigh what leaving the NULLs out saves.
    """
    key = null_keys.not_null_key(catalog, fk)
    stmt = ddl.create_index(fk.schema, fk.table, name, keys, where=key.where if key is not None else None)
    if key is None:
        return stmt, {}
    return stmt, {"where": key.where, "null_frac": key.null_frac,
                  "forecast_bytes": sizing.forecast(catalog, fk.table_key, keys, fraction=key.fraction),
                  "full_forecast_bytes": sizing.forecast(catalog, fk.table_key, keys)}


def note(evidence: dict[str, Any]) -> str:
    """The finding's words for a partial fix: how many rows leave the key unset, and what that saves."""
    if "where" not in evidence:
        return ""
    share = evidence["null_frac"]
    return (f"; {share:.0%}" if share in (0.0, 1.0) else f"; {share:.1%}") + (
        " of its rows leave the key NULL, which no check or join on it reads: the fix indexes the others only "
        f"({_size(evidence['forecast_bytes'])} forecast, {_size(evidence['full_forecast_bytes'])} in full)")


def _size(n: int) -> str:
    return f"{n / 1048576:,.1f} MB" if n >= 1 << 20 else f"{n / 1024:,.0f} kB"
