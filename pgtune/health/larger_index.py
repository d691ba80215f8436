"""index-larger-than-table: an index larger on disk than its table (docs/checks/index-larger-than-table.md)."""

from __future__ import annotations

from .checks import Context, reindex_statement
from .model import CheckId, Finding, Severity

LARGE_INDEX = 1 << 20          # below 1 MB the comparison is noise


def index_larger_than_table(ctx: Context) -> list[Finding]:
    """A b-tree (or hash) index larger than its table has likely kept dead rows' pages: rebuilt. A GIN, GiST or
    SP-GiST index may be larger than narrow rows without any (a GIN holds an entry per array element, word or
    trigram): said, never rebuilt on that alone (a GIN of 40 ints a row was 2.5x its table freshly built)."""
    conn = ctx.conn
    out = []
    for r in ctx.rows("health_indexes"):
        if not r["is_valid"] or r["index_bytes"] < LARGE_INDEX or r["index_bytes"] <= r["table_bytes"]:
            continue
        if r["is_exclusion"]:
            why = (": an exclusion constraint's, which PostgreSQL cannot rebuild CONCURRENTLY (a plain REINDEX blocks "
                   "the table's writes; a GiST index is often larger than narrow rows without bloat)")      # p20
        elif not rebuilt_when_larger(r["method"]):
            why = (f": a {r['method']} index often is without any bloat (an entry per element, word or key it "
                   "holds); compare it with a fresh build before rebuilding it")
        else:
            why = ": likely bloated"
        out.append(Finding(
            CheckId.INDEX_LARGER_THAN_TABLE, Severity.INFO, r["schema"], r["table"], r["index"],
            f"index {r['index']} ({r['index_bytes'] / 1048576:,.1f} MB) is larger than its table "
            f"({r['table_bytes'] / 1048576:,.1f} MB){why}",
            {"index_bytes": r["index_bytes"], "table_bytes": r["table_bytes"], "definition": r["definition"]},
            [reindex_statement(conn, r["schema"], r["index"])] if why == ": likely bloated" else []))
    return out


def rebuilt_when_larger(method: str) -> bool:
    """Is an index of ``method`` larger than its table a sign of bloat (index-larger-than-table's rebuild)?"""
    return method in ("btree", "hash")
