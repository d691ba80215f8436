"""hot-blocking-index: an existing index on a column the workload's UPDATEs set, keeping the table's HOT share low.

An UPDATE that changes no indexed column (and finds room on its page) is a
HOT update: no index is written. One index on a column the updates set ends
that for every such update: each then writes a new entry in every index of
the table and bloats them. The evidence is the UPDATE statements of
pg_stat_statements and the columns they SET (analyze.hot), the rows they
changed, and the table's n_tup_upd / n_tup_hot_upd. An index is reported
when it alone stands between those updates and HOT (no other index holds a
column they set) and the table's HOT share is low. Its fix, DROP INDEX
CONCURRENTLY, is given only when the index was scanned fewer times than the
row updates it made non-HOT; an index the reads need more is reported
without one (a narrower index, without the updated column, is a person's
call).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import psycopg

from ..analyze import hot
from ..connect import lost
from .checks import Context, catalog_rows, drop_statement, foreign_key_indexes
from .model import CheckId, Finding, Severity
from .partitions import attached

MIN_UPDATES = 1000      # row updates on the table in the statistics window before its HOT share means anything
LOW_HOT = 0.5           # the table's HOT share (n_tup_hot_upd / n_tup_upd) below this is low
MIN_SHARE = 0.2         # the updates the index makes non-HOT are at least this share of the table's updates


def hot_blocking_index(ctx: Context) -> list[Finding]:
    """Indexes that alone keep a frequently updated column's UPDATEs from being HOT."""
    try:
        writes = hot.read(ctx.conn, ctx.catalog())
    except psycopg.Error as exc:
        if lost(ctx.conn):
            raise
        ctx.notes.append(f"hot-blocking-index not run: pg_stat_statements could not be read "
                         f"({str(exc).splitlines()[0]})")
        return []
    if writes.missing:
        ctx.notes.append(f"hot-blocking-index not run: {writes.missing}")
        return []
    usage = {(r["schema"], r["index"]): r for r in catalog_rows(ctx.conn, "health_index_usage")}
    needed = foreign_key_indexes(ctx.catalog())
    out = []
    for r in ctx.rows("health_indexes"):
        key, table = (r["schema"], r["index"]), (r["schema"], r["table"])
        stats = writes.tables.get(table)
        if (r["is_protected"] or r["is_unique"] or not r["is_valid"] or attached(r) or r["partitioned"]
                or stats is None or stats.updates < MIN_UPDATES or (stats.share or 0.0) >= LOW_HOT):
            continue
        found = _blocked(writes, table, r["index"])
        if found is None:
            continue
        blocked, columns = found
        rows = sum(u.rows for u in blocked)
        if rows < MIN_SHARE * stats.updates:
            continue
        out.append(_finding(ctx, r, stats, blocked, columns, usage.get(key), key in needed))
    return out


def _blocked(writes: hot.HotWrites, table: tuple[str, str],
             index: str) -> tuple[list[hot.UpdateStatement], list[str]] | None:
    """The table's UPDATE statements only this index keeps from HOT, and the columns of it they set."""
    mine = next((i for i in writes.catalog.indexes_on(table) if i.name == index), None)
    if mine is None:
        return None
    held = hot.index_columns(mine)
    others = frozenset().union(*(hot.index_columns(i) for i in writes.catalog.indexes_on(table) if i is not mine))
    blocked = [u for u in writes.updates.get(table, []) if u.rows and u.columns & held and not u.columns & others]
    if not blocked:
        return None
    return blocked, sorted(set().union(*(u.columns for u in blocked)) & held)


def _finding(ctx: Context, r: dict[str, Any], stats: hot.TableHot, blocked: list[hot.UpdateStatement],
             columns: list[str], usage: dict[str, Any] | None, for_key: bool) -> Finding:
    rows = sum(u.rows for u in blocked)
    scans = int(usage["idx_scan"] or 0) if usage is not None else 0
    share = stats.share or 0.0
    fix: list[str] = []
    what = (f"index {r['index']} holds {', '.join(columns)}, which {len(blocked)} UPDATE statement"
            f"{'s' if len(blocked) != 1 else ''} set ({rows:,} rows): none of them can be a HOT update, and "
            f"{r['table']}'s HOT share is {share:.0%} ({stats.hot:,} of {stats.updates:,} row updates)")
    if for_key:
        why = "it is the only index a foreign key's columns lead: keep it, or change the updates"
    elif scans >= rows:
        why = (f"it was scanned {scans:,} times, more than the updates it makes write every index: "
                        "an index without the updated column is a person's call")
    else:
        fix = [drop_statement(ctx.conn, r["schema"], r["index"])]
        why = f"it was scanned {scans:,} times, fewer than the row updates it makes write every index"
    return Finding(
        CheckId.HOT_BLOCKING_INDEX, Severity.WARNING if fix else Severity.INFO, r["schema"], r["table"], r["index"],
        f"{what}; {why}",
        {"columns": columns, "updates": [_update(u) for u in blocked], "blocked_rows": rows,
         "n_tup_upd": stats.updates, "n_tup_hot_upd": stats.hot, "hot_share": round(share, 4),
         "fillfactor": stats.fillfactor, "idx_scan": scans, "definition": r["definition"],
         "index_bytes": int(usage["index_bytes"]) if usage is not None else int(r["index_bytes"])},
        fix)


def _update(u: hot.UpdateStatement) -> dict[str, Any]:
    d = asdict(u)
    d["table"] = ".".join(u.table)
    d["columns"] = sorted(u.columns)
    return d
