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
row updates it made non-HOT and no statement of the workload plans with it
(health.workload_plans); an index the reads need is reported without one,
naming the statements (queryid) whose plans use it: a person weighs those
reads against the updates (a narrower index, without the updated column, is
a person's call too).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg

from ..analyze import hot
from ..connect import lost
from ..errors import PgtuneError
from .checks import Context, catalog_rows, drop_statement, foreign_key_indexes
from .model import CheckId, Finding, Severity
from .partitions import attached, kind
from .workload_plans import UsedBy, statements_using

MIN_UPDATES = 1000      # row updates on the table in the statistics window before its HOT share means anything
LOW_HOT = 0.5           # the table's HOT share (n_tup_hot_upd / n_tup_upd) below this is low
MIN_SHARE = 0.2         # the updates the index makes non-HOT are at least this share of the table's updates


@dataclass
class _Judged:
    """An index that stands between UPDATEs and HOT, with its evidence (a partitioned one: over its partitions)."""

    r: dict[str, Any]
    stats: hot.TableHot
    blocked: list[hot.UpdateStatement]
    columns: list[str]
    scans: int
    index_bytes: int
    for_key: bool
    plan_names: set[tuple[str, str]]     # (schema, name) of it and, partitioned, its partitions' indexes
    partitions: list[dict[str, Any]] = field(default_factory=list)     # per partition: its HOT counters

    @property
    def rows(self) -> int:
        return sum(u.rows for u in self.blocked)


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
    judged = []
    for r in ctx.rows("health_indexes"):
        if r["is_protected"] or r["is_unique"] or not r["is_valid"] or attached(r):
            continue
        found = _partitioned(ctx, writes, r, usage) if r["partitioned"] else _plain(writes, r, usage)
        if found is None or found.stats.updates < MIN_UPDATES or (found.stats.share or 0.0) >= LOW_HOT \
                or found.rows < MIN_SHARE * found.stats.updates:
            continue
        found.for_key = (r["schema"], r["index"]) in needed
        judged.append(found)
    droppable = set().union(*(j.plan_names for j in judged if not j.for_key and j.scans < j.rows))
    readers = _readers(ctx, droppable)
    return [_finding(ctx, j, readers) for j in judged]


def _plain(writes: hot.HotWrites, r: dict[str, Any], usage: dict[tuple[str, str], dict[str, Any]]) -> _Judged | None:
    table = (r["schema"], r["table"])
    stats = writes.tables.get(table)
    found = _blocked(writes, [table], table, r["index"]) if stats is not None else None
    if stats is None or found is None:
        return None
    use = usage.get((r["schema"], r["index"]))
    return _Judged(r, stats, found[0], found[1], _scans(use), int(use["index_bytes"]) if use else int(r["index_bytes"]),
                   False, {(r["schema"], r["index"])})


def _partitioned(ctx: Context, writes: hot.HotWrites, r: dict[str, Any],
                 usage: dict[tuple[str, str], dict[str, Any]]) -> _Judged | None:
    """A partitioned index, judged over its partitions: their HOT counters summed, their indexes' scans summed.

    Only one level of partitions (each attached index names its partition);
    an UPDATE of the parent or of a partition counts, and a column any other
    index of the parent or of a partition holds stops HOT there anyway.
    """
    catalog = ctx.catalog()
    table = catalog.tables.get((r["schema"], r["table"]))
    children = {(s_, t): i for s_, t, i in (tuple(a) for a in r["attached"] or [])}
    if table is None or not table.partitions or set(table.partitions) != set(children):
        return None          # a partition without the index, or partitions of partitions: not judged here
    if any((t := catalog.tables.get(p)) is None or t.partitioned for p in table.partitions):
        return None
    per = [(p, writes.tables.get(p)) for p in table.partitions]
    if any(s_ is None for _p, s_ in per):
        return None
    own = {(p[0], children[p]) for p in table.partitions}
    others = frozenset().union(*(hot.index_columns(i) for p in table.partitions for i in catalog.indexes_on(p)
                                 if (i.schema, i.name) not in own))
    found = _blocked(writes, [table.key, *table.partitions], table.key, r["index"], others)
    if found is None:
        return None
    stats = hot.TableHot(sum(s_.updates for _p, s_ in per if s_), sum(s_.hot for _p, s_ in per if s_),
                         min(s_.fillfactor for _p, s_ in per if s_))
    uses = [usage.get(i) for i in own]
    return _Judged(r, stats, found[0], found[1], sum(_scans(u) for u in uses),
                   sum(int(u["index_bytes"]) for u in uses if u), False, {(r["schema"], r["index"]), *own},
                   [{"partition": p[1], "n_tup_upd": s_.updates, "n_tup_hot_upd": s_.hot,
                     "hot_share": round(s_.share or 0.0, 4), "fillfactor": s_.fillfactor}
                    for p, s_ in per if s_ is not None])


def _scans(usage: dict[str, Any] | None) -> int:
    return int(usage["idx_scan"] or 0) if usage is not None else 0


def _readers(ctx: Context, indexes: set[tuple[str, str]]) -> dict[tuple[str, str], list[UsedBy]] | None:
    """Per index, the workload's statements whose plan uses it (None: the plans could not be read)."""
    if not indexes:
        return {}
    try:
        found = statements_using(ctx.conn, indexes)
    except (PgtuneError, psycopg.Error) as exc:
        if lost(ctx.conn):
            raise
        ctx.notes.append(f"hot-blocking-index gives no DROP: the workload's plans could not be read "
                         f"({str(exc).splitlines()[0]})")
        return None
    out: dict[tuple[str, str], list[UsedBy]] = {}
    for u in found:
        for key in u.keys:
            out.setdefault(key, []).append(u)
    return out


def _blocked(writes: hot.HotWrites, tables: list[tuple[str, str]], table: tuple[str, str], index: str,
             elsewhere: frozenset[str] = frozenset()) -> tuple[list[hot.UpdateStatement], list[str]] | None:
    """The UPDATE statements (of ``tables``) only this index keeps from HOT, and the columns of it they set.

    ``elsewhere``: columns other indexes hold where these updates land (a partition's own indexes).
    """
    mine = next((i for i in writes.catalog.indexes_on(table) if i.name == index), None)
    if mine is None:
        return None
    held = hot.index_columns(mine)
    others = elsewhere.union(*(hot.index_columns(i) for i in writes.catalog.indexes_on(table) if i is not mine))
    blocked = [u for t in tables for u in writes.updates.get(t, []) if u.rows and u.columns & held
               and not u.columns & others]
    if not blocked:
        return None
    return blocked, sorted(set().union(*(u.columns for u in blocked)) & held)


def _finding(ctx: Context, j: _Judged, readers: dict[tuple[str, str], list[UsedBy]] | None) -> Finding:
    r, stats, rows, scans = j.r, j.stats, j.rows, j.scans
    share = stats.share or 0.0
    fix: list[str] = []
    over = f" over its {len(j.partitions)} partitions" if j.partitions else ""
    what = (f"{kind(r)} {r['index']} holds {', '.join(j.columns)}, which {len(j.blocked)} UPDATE statement"
            f"{'s' if len(j.blocked) != 1 else ''} set ({rows:,} rows): none of them can be a HOT update, and "
            f"{r['table']}'s HOT share{over} is {share:.0%} ({stats.hot:,} of {stats.updates:,} row updates)")
    used_by = sorted({id(u): u for n in j.plan_names for u in (readers or {}).get(n, [])}.values(),
                     key=lambda u: -u.statement.calls)
    if j.for_key:
        why = "it is the only index a foreign key's columns lead: keep it, or change the updates"
    elif scans >= rows:
        why = (f"it was scanned {scans:,} times, more than the updates it makes write every index: "
                        "an index without the updated column is a person's call")
    elif readers is None:
        why = (f"it was scanned {scans:,} times, fewer than the row updates it makes write every index, but the "
               "workload's plans could not be read to show no statement needs it: a person's call")
    elif used_by:
        named = ", ".join(f"queryid {u.statement.queryid} ({u.statement.calls:,} calls)" for u in used_by[:5])
        why = (f"it was scanned {scans:,} times, fewer than the row updates it makes write every index, but the "
               f"plan of {named} uses it: weigh those reads against the updates (an index without the updated "
               "column is a person's call)")
    else:
        fix = [drop_statement(ctx.conn, r["schema"], r["index"], r["partitioned"])]
        why = (f"it was scanned {scans:,} times, fewer than the row updates it makes write every index, and no "
               "statement of the workload plans with it")
    return Finding(
        CheckId.HOT_BLOCKING_INDEX, Severity.WARNING if fix else Severity.INFO, r["schema"], r["table"], r["index"],
        f"{what}; {why}",
        {"columns": j.columns, "updates": [_update(u) for u in j.blocked], "blocked_rows": rows,
         "n_tup_upd": stats.updates, "n_tup_hot_upd": stats.hot, "hot_share": round(share, 4),
         "fillfactor": stats.fillfactor, "idx_scan": scans, "definition": r["definition"],
         "index_bytes": j.index_bytes,
         "used_by": [{"queryid": u.statement.queryid, "calls": u.statement.calls, "query": u.statement.query}
                     for u in used_by],
         **({"partition_hot": j.partitions} if j.partitions else {})},
        fix)


def _update(u: hot.UpdateStatement) -> dict[str, Any]:
    d = asdict(u)
    d["table"] = ".".join(u.table)
    d["columns"] = sorted(u.columns)
    return d
