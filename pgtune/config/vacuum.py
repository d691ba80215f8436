"""Autovacuum and per-table storage: vacuum thresholds for churned tables, fillfactor for update-heavy ones.

Autovacuum vacuums a table once its dead tuples pass
autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor × reltuples
(50 + 20% by default, the routine-vacuuming chapter of the documentation): a
large table churned by updates carries a fifth of its size in dead tuples
before a vacuum starts. pgtune lowers the scale factor for that table only.

An update is HOT (no index touched, the new version on the same page) when
it changes no indexed column and the page has room. Updates that are not HOT
although they change no indexed column — told by pg_stat_user_tables'
n_tup_newpage_upd on PostgreSQL 16+, or by the table's UPDATE statements in
pg_stat_statements, which set no indexed column — lack room: a fillfactor
below 100 leaves it: 100 − 50 × the share of updates that were not HOT,
in tens, between 50 and 90 (every update cold: half of each page kept free).
A new fillfactor applies to pages written from then on. Only updates the workload makes count: where
pg_stat_statements holds every statement since before the counters' updates (all readable, none evicted) and
no UPDATE, MERGE or INSERT … ON CONFLICT DO UPDATE of the table, they came from outside it (p31: a backfill
before pg_stat_statements_reset() on an insert-only table got fillfactor 50 and a VACUUM FULL).
"""

from __future__ import annotations

from typing import Any

import pglast
from pglast import ast

from ..sqltext import walk
from .context import Context
from .evidence import TableStats
from .model import Advice, Family, Symptom

MIN_ROWS = 10_000            # smaller tables are vacuumed soon enough by the defaults
DEAD_SHARE = 0.05            # dead tuples above this share of the table: autovacuum comes late
MIN_UPDATES = 1_000
HOT_SHARE = 0.5              # fewer HOT updates than this share: look at why


def propose(ctx: Context) -> None:
    scale = ctx.snap.setting("autovacuum_vacuum_scale_factor").number
    threshold = ctx.snap.setting("autovacuum_vacuum_threshold").number
    updated = _updated_columns(ctx)
    written = _updating(ctx)
    for t in sorted(ctx.snap.tables.values(), key=lambda t: (t.schema, t.table)):
        _thresholds(ctx, t, scale, threshold)
        _fillfactor(ctx, t, updated.get((t.schema, t.table)), written)


def _thresholds(ctx: Context, t: TableStats, scale: float, threshold: float) -> None:
    rows = max(t.reltuples, float(t.live))
    if rows < MIN_ROWS or "autovacuum_vacuum_scale_factor" in t.reloptions or t.dead < DEAD_SHARE * rows:
        return
    target = 0.01 if rows >= 1_000_000 else 0.02
    if target >= scale:
        return
    trigger = threshold + scale * rows
    ctx.table(t, "autovacuum_vacuum_scale_factor", f"{target:g}", Family.AUTOVACUUM,
              f"{t.dead:,} dead tuples ({t.dead / rows:.0%} of {rows:,.0f} rows) wait for a vacuum that starts "
              f"at {trigger:,.0f} (autovacuum_vacuum_threshold {threshold:g} + scale factor {scale:g} × rows); "
              f"{t.updates + t.deletes:,} updates and deletes, {t.autovacuums} autovacuum runs in the period",
              f"autovacuum starts at about {threshold + target * rows:,.0f} dead tuples on this table: dead tuples "
              "at the end of the same load stay near that, the table and its indexes bloat less",
              Symptom.DEAD_TUPLES, dead=t.dead, live=t.live, reltuples=t.reltuples, updates=t.updates,
              deletes=t.deletes, autovacuums=t.autovacuums, vacuum_trigger=trigger)


def _fillfactor(ctx: Context, t: TableStats, sets: set[str] | None,
                written: set[tuple[str, str]] | None) -> None:
    if t.updates < MIN_UPDATES or "fillfactor" in t.reloptions:
        return
    hot = t.hot_updates / t.updates
    if hot >= HOT_SHARE:
        return
    if written is not None and (t.schema, t.table) not in written:
        ctx.notes.append(f"fillfactor for {t.schema}.{t.table} not proposed: its {t.updates:,} updates "
                         f"({t.hot_updates:,} HOT) come from no statement pg_stat_statements counts (none of them "
                         "an UPDATE, MERGE or INSERT … ON CONFLICT DO UPDATE of it): a backfill or load before "
                         "pg_stat_statements_reset(), or a function's or trigger's under pg_stat_statements.track "
                         "= top; judge a window of normal load (--window)")
        return
    cold = t.updates - t.hot_updates
    evidence: dict[str, Any] = {"updates": t.updates, "hot_updates": t.hot_updates, "hot_share": round(hot, 3)}
    indexed, expressions = ctx.snap.indexed.get((t.schema, t.table), (frozenset(), False))
    if t.newpage_updates is not None:
        evidence["newpage_updates"] = t.newpage_updates
        if t.newpage_updates < 0.5 * cold:
            return          # most non-HOT updates changed an indexed column: room would not help
        seen = f"{t.newpage_updates:,} of the {cold:,} non-HOT updates left their page (n_tup_newpage_upd)"
    elif sets is not None and not expressions and not (sets & indexed):
        evidence["updated_columns"] = sorted(sets)
        evidence["indexed_columns"] = sorted(indexed)
        seen = (f"its UPDATE statements set {', '.join(sorted(sets))}, which no index holds, yet {cold:,} "
                "updates were not HOT: the pages had no room")
    else:
        return
    # The room an update needs grows with the share that found none: all of them cold, half of each page free.
    value = max(50, min(90, int((100 - 50 * cold / t.updates) // 10 * 10)))
    ctx.table(t, "fillfactor", str(value), Family.AUTOVACUUM,
              f"{t.hot_updates:,} of {t.updates:,} updates were HOT ({hot:.0%}); {seen}",
              f"new pages keep {100 - value}% free, so an update that changes no indexed column stays on its "
              "page: the HOT share of updates to rows written from now on rises, indexes are not touched "
              f"(the table takes about {100 / value:.2g}× the space for those rows)",
              Symptom.NON_HOT_UPDATES, **evidence)
    ctx.advice.append(Advice(Family.AUTOVACUUM, f"rewrite {t.schema}.{t.table} to apply fillfactor {value} to its "
                             "existing pages",
                             "a fillfactor applies to pages written after it is set; the rows already there stay "
                             "on full pages until the table is rewritten",
                             ["VACUUM FULL (ACCESS EXCLUSIVE lock for the rewrite) or pg_repack (online)"],
                             Symptom.NON_HOT_UPDATES, {"bytes": t.bytes}))


def _updated_columns(ctx: Context) -> dict[tuple[str, str], set[str]]:
    """Per table, the columns its UPDATE statements in pg_stat_statements set (tables named without a
    schema are matched by name when one table has it)."""
    by_name: dict[str, list[tuple[str, str]]] = {}
    for key in ctx.snap.tables:
        by_name.setdefault(key[1], []).append(key)
    out: dict[tuple[str, str], set[str]] = {}
    for st in ctx.snap.statements:
        try:
            node: Any = pglast.parse_sql(st.query)[0].stmt
        except pglast.parser.ParseError:
            continue
        if not isinstance(node, ast.UpdateStmt):
            continue
        rel: Any = node.relation
        keys = [(rel.schemaname, rel.relname)] if rel.schemaname else by_name.get(rel.relname, [])
        if len(keys) != 1:
            continue
        out.setdefault(keys[0], set()).update(str(rt.name) for rt in node.targetList or () if rt.name)
    return out


def _updating(ctx: Context) -> set[tuple[str, str]] | None:
    """The tables some statement pg_stat_statements counts updates (UPDATE, MERGE, an upsert's DO UPDATE,
    also inside a CTE); None where it may not hold them all (unreadable, other roles' text hidden, entries
    evicted)."""
    snap = ctx.snap
    if not snap.statements_readable or not snap.reads_all_stats or snap.statements_dealloc != 0:
        return None
    by_name: dict[str, list[tuple[str, str]]] = {}
    for key in snap.tables:
        by_name.setdefault(key[1], []).append(key)
    out: set[tuple[str, str]] = set()
    for st in snap.statements:
        try:
            tree = pglast.parse_sql(st.query)
        except pglast.parser.ParseError:
            return None         # a statement not read could be one
        for node in walk(tree):
            if isinstance(node, (ast.UpdateStmt, ast.MergeStmt)) or _upsert(node):
                rel: Any = node.relation
                out.update([(rel.schemaname, rel.relname)] if rel.schemaname else by_name.get(rel.relname, []))
    return out | snap.updated_by_functions     # a trigger's UPDATE, never counted under track = top (r25)


def _upsert(node: Any) -> bool:
    """An INSERT … ON CONFLICT DO UPDATE."""
    return isinstance(node, ast.InsertStmt) and node.onConflictClause is not None \
        and node.onConflictClause.action == pglast.enums.OnConflictAction.ONCONFLICT_UPDATE
