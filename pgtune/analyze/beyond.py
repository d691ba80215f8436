"""GIN, BRIN and hash proposals: analyze.kinds' candidates, each costed by the planner, never guessed.

A hash candidate stands for a b-tree on a column too wide for one (analyze.wide_keys), for the statements that
look the column up by equality. A BRIN or hash candidate is costed with HypoPG, like a b-tree. A GIN candidate is
built for real on the clone the DBA names (``--trial-dsn``, analyze.trial);
without one, on a bounded sample of the table in a temporary table of
pgtune's own session (analyze.sample_cost), its plan change scaled to the
real statement's cost; where neither can run, a hint says what it would serve. A
candidate is proposed when the plans of the statements it serves use it and
their calls x cost falls by at least MIN_CUT, net of what it costs the
table's writes: every insert writes it, and one on a column the workload's
UPDATEs set stops their HOT updates (analyze.hot), which is charged too.
Each proposal says which method produced its figure (``costed_by``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import psycopg
from psycopg import sql

from .. import catalog_sql, ddl
from .._text import error_text
from ..capture import Catalog, TableKey
from ..connect import session_stops
from ..ddl import IndexKey, IndexMethod
from ..errors import InputError
from ..explain import Plan, explain
from ..explain_names import plan_name, raw_cursor
from ..roles import Roles, RoleView
from ..snapshot import Snapshot
from ..sqltext import StatementKind
from . import (
    dependent_keys,
    extensions,
    hot,
    immutable,
    pool,
    recredit,
    reselect,
    unhelped,
    virtual_columns,
)
from .candidates import Candidate
from .extended_stats import Planned, planned
from .inherited import review as review_inherited
from .kind_budget import Budget
from .kinds import TRIGRAM, KindCandidate, candidates, run_time_config, terms
from .model import Advice, AnalyzedStatement, IndexSuggestion, Method, QueryRef
from .sample_cost import RUNS, IndexBuild, on_sample, race
from .trial import CostMethod, TrialCost, TrialFailed, on_clone

MIN_CUT = 0.10              # the statements served must cost at least this share less
# ...and half, for a GIN: its estimate is the planner's coarsest (p16, Papermark-shaped: gin ("allowList") for
# "teamId" = $1 AND "allowList" @> $2 LIMIT 20, the equality served by a b-tree, predicted 1.1x, measured 0.24 ->
# 0.96 ms once built; a sample of it the minute before said 19,572 -> 17,834, not proposed).
MIN_CUT_GIN = 0.50
WRITE_COST = 2.0            # planner cost units per index entry written (advisor.WRITE_COST)
# A BRIN replaces a proposed b-tree on its column when it keeps BRIN_KEEPS of the b-tree's planner-cost saving
# at BRIN_SIZE of its size. The planner costs a BRIN scan pessimistically: it counts every row of each block
# range that may match (a day of 150,000 events: 18,750 rows where 8,572 match), so a BRIN that reads the
# same heap pages as the b-tree shows about 70% of its saving (tests/test_index_kinds.py).
BRIN_KEEPS = 0.6
BRIN_SIZE = 0.1
# …or, measured on a sample, runs its statements at most BRIN_TIME as long (_instead): a b-tree ten times the
# BRIN's size or more (paid on every insert, in the cache, in backups) must be 25% faster to be kept; a smaller
# difference is within what best-of-5 runs move on a loaded server (beyond_btree: 0.76x-1.64x between two runs).
BRIN_TIME = 1.25


@dataclass(frozen=True)
class _Costed:
    cand: KindCandidate
    method: CostMethod
    before: list[float | None]
    after: list[float | None]
    used: list[bool]
    size_bytes: int
    note: str = ""


def extend(conn: psycopg.Connection[Any], catalog: Catalog, advice: Advice, *,
           trial: psycopg.Connection[Any] | None, use_hypopg: bool, writes: hot.HotWrites | None,
           write_scale: float, say: Callable[[str], None], roles: Roles | None = None,
           budget: Budget | None = None) -> None:
    """Add the GIN and BRIN indexes the planner shows are worth it to ``advice`` (indexes, extensions, hints),
    each within what ``budget`` has left (in place of a b-tree, a BRIN only makes room)."""
    statements = planned(advice.statements)
    need = extensions.read(conn, [TRIGRAM])[TRIGRAM]
    each = terms(catalog, statements)
    found = [c for c in candidates(catalog, statements, need.schema if need.available else None, each)
             + _hash_candidates(advice) if not _exists(catalog, c)]
    found = _buildable(conn, found, advice.hints)
    row = conn.execute("SELECT /* pgtune */ pg_catalog.current_setting('default_text_search_config')").fetchone()
    advice.hints.extend(run_time_config(catalog, statements, str(row[0]) if row else None, each))
    for cand in found:
        # A statement a proposed b-tree serves is a BRIN's only in place of that b-tree (_instead).
        btree = _replaceable(advice, cand)
        positions = [p for p in cand.statements
                     if cand.method != IndexMethod.BRIN or btree is not None or not advice.statements[p].indexes]
        if not positions:
            continue
        served = [replace(statements[p], row_filter=_row_filter(roles, advice.statements[p], cand.table))
                  for p in positions]
        costed = _cost(conn, catalog, cand, served, trial=trial, use_hypopg=use_hypopg, say=say,
                       companions=_companions(catalog, advice, cand.table))
        if isinstance(costed, str):
            advice.hints.append(costed)
            continue
        suggestion = _judge(catalog, costed, [advice.statements[p] for p in positions], served, writes, write_scale,
                            _rival(advice, cand, positions))
        if isinstance(suggestion, str):
            advice.hints.append(suggestion)
            continue
        refused = _instead(conn, catalog, advice, btree, suggestion, served) if btree is not None else None
        if refused is None and budget is not None and btree is None \
                and (refused := budget.refusal(advice, suggestion)) is not None:
            unhelped.held([advice.statements[p] for p in positions], [a is not None and b is not None and a < b
                          for a, b in zip(costed.after, costed.before, strict=True)], advice.hints, refused)
        if refused is not None:
            advice.hints.append(refused)
            continue
        advice.indexes.append(suggestion)
        _credit(costed, [advice.statements[p] for p in positions], suggestion.name, replaced=btree is not None)
        unhelped.helped([advice.statements[p] for p in positions], advice.hints)
        if cand.extension is not None and all(e.name != cand.extension for e in advice.extensions):
            advice.extensions.append(need)
            if need.note:
                advice.hints.append(need.note)


def after_selection(conn: psycopg.Connection[Any], snap: Snapshot, advice: Advice, *,
                    trial: psycopg.Connection[Any] | None, index_kinds: bool, database: str | None,
                    say: Callable[[str], None], budget: Budget | None = None) -> None:
    """What runs once the b-tree selection is done: the generic-plan and HOT reviews, then the GIN and BRIN
    proposals; on a session opened like ``conn`` and closed after (pool.aside): their plans and samples read the
    tables of every proposal, and a backend keeps a cache entry of each until it ends (m17: 21 MB on pgtune's own
    connection at 5,000 statements over 500 tables)."""
    if advice.method != Method.HYPOPG:
        for ix in advice.indexes:       # heuristic mode's b-trees: no plan costed them (p17: JSON said hypopg)
            ix.costed_by = CostMethod.NONE
    with pool.aside(conn) as reads:
        _reviews(reads, snap, advice, trial=trial, index_kinds=index_kinds, database=database, say=say,
                 budget=budget)


def _reviews(conn: psycopg.Connection[Any], snap: Snapshot, advice: Advice, *,
             trial: psycopg.Connection[Any] | None, index_kinds: bool, database: str | None,
             say: Callable[[str], None], budget: Budget | None) -> None:
    writes = hot.read(conn, snap.catalog, snap.roles, database) if snap.from_server else None
    if writes is not None and writes.missing:
        advice.hints.append(f"no proposal is charged for the HOT updates it would stop: the workload's UPDATE "
                            f"statements could not be read ({writes.missing})")
    # An index only a prepared statement's generic plan takes, or whose HOT charge outweighs it: withdrawn, and
    # the statements it left get another index where one pays.
    reselect.review(conn, snap, advice, writes, budget)
    narrowed = dependent_keys.review(conn, snap.catalog, advice)   # a key the others determine: no gain
    recredit.again(conn, snap.catalog, advice)      # what a withdrawal left a statement with, planned again
    if dependent_keys.keep_served(advice, narrowed):    # a narrowing no statement took: the chosen keys back
        recredit.again(conn, snap.catalog, advice)
    if index_kinds:
        say("looking for filters a GIN or BRIN index serves")
        extend(conn, snap.catalog, advice, trial=trial, use_hypopg=advice.method == Method.HYPOPG, writes=writes,
               write_scale=snap.write_scale, say=say, roles=snap.roles, budget=budget)
    virtual_columns.review(snap.catalog, advice)    # PostgreSQL 18 refuses an index naming a virtual column
    review_inherited(conn, snap.catalog, advice)    # INHERITS children: read by statements on the parent, not indexed


def _companions(catalog: Catalog, advice: Advice | None, table: TableKey) -> tuple[str, ...]:
    """The indexes a plan on the table chooses among: its valid ones, and the b-trees proposed on it."""
    have = [i.definition for i in catalog.indexes_on(table) if i.is_valid and i.definition]
    proposed = [s.ddl for s in advice.indexes if (s.schema, s.table) == table and s.method == IndexMethod.BTREE
                ] if advice is not None else []
    return (*have, *proposed)


def _row_filter(roles: Roles | None, st: AnalyzedStatement, table: TableKey) -> tuple[str, ...]:
    """What row security adds to ``st`` on ``table`` for the role that ran it (a sample has no policy)."""
    role = roles.by_name(st.role) if roles is not None and st.role is not None else None
    if roles is None or role is None:
        return ()
    found = RoleView(role, role.search_path, roles.protected).row_filter(table, StatementKind.SELECT)
    if found is None:
        return ()
    return ("false",) if found.denies else found.expressions


def check_trial(conn: psycopg.Connection[Any], trial: psycopg.Connection[Any]) -> None:
    """Refuse a trial database that is the analyzed one: a trial build there would block its writes."""
    probe = ("SELECT /* pgtune */ pg_catalog.pg_postmaster_start_time(), pg_catalog.current_setting('port'), "
             "pg_catalog.current_database()")
    if conn.execute(probe).fetchone() == trial.execute(probe).fetchone():
        raise InputError("--trial-dsn names the database being analyzed: give a copy of it (a trial build there "
                         "would block its writes)")


def _hash_candidates(advice: Advice) -> list[KindCandidate]:
    """A hash index for each column too wide for a b-tree that statements compare by equality."""
    return [KindCandidate(w.table, IndexKey(w.column), IndexMethod.HASH, statements=sorted(w.lookups),
                          filters=[f"{w.column} = …"], evidence=w.hash_evidence) for w in advice.wide_keys if w.lookups]


def _buildable(conn: psycopg.Connection[Any], found: list[KindCandidate], hints: list[str]) -> list[KindCandidate]:
    """``found`` less those whose expression is not IMMUTABLE (``unaccent(name)``, STABLE): the server refuses such
    an index, so no sample, clone or HypoPG build is tried (r23: each was an ERROR line in the server's log, and the
    hint sent the user to --trial-dsn, where it fails the same way); a hint says why (analyze.immutable)."""
    told = immutable.refusals(conn, [Candidate(c.table, (c.key,), 1) for c in found])
    for n in sorted(told):
        hints.append(f"{_what(found[n])} would serve {', '.join(found[n].filters[:3])}, but the server refuses it "
                     f"({told[n].removeprefix('hypopg: ')}): not proposed")
    return [c for n, c in enumerate(found) if n not in told]


def _exists(catalog: Catalog, cand: KindCandidate) -> bool:
    """An index of the same method already holds the key as its first (pg_get_indexdef's text of it: a name
    quoted where needed). Not the key against its own quoted text: that held for every lower-case column, so any
    GIN on a table hid a candidate on another column, and a Prisma "runTags" never matched its own GIN (p24)."""
    key = cand.key.expression or cand.key.column
    written = {key, ddl.name(key)}
    return any(index.method == str(cand.method) and index.key_defs[:1] and index.key_defs[0] in written
               for index in catalog.indexes_on(cand.table))


def _what(cand: KindCandidate) -> str:
    opclass = f" {cand.key.opclass_name}" if cand.key.opclass_name else ""
    return f"{cand.method} ({cand.key.expression or cand.key.column}{opclass}) on {ddl.qualified(*cand.table)}"


def _cost(conn: psycopg.Connection[Any], catalog: Catalog, cand: KindCandidate, served: list[Planned], *,
          trial: psycopg.Connection[Any] | None, use_hypopg: bool, say: Callable[[str], None],
          companions: tuple[str, ...] = ()) -> _Costed | str:
    """The candidate's costs (or why it has none): HypoPG for BRIN and hash; for GIN (or without HypoPG) a trial
    build on the clone, else on a sample (analyze.sample_cost)."""
    if cand.method in (IndexMethod.BRIN, IndexMethod.HASH) and use_hypopg:
        say(f"costing {_what(cand)} with HypoPG")
        return _hypothetical(conn, cand, served, catalog.leaf_partitions(cand.table))
    if trial is None:
        return _sampled(conn, catalog, cand, served, say, companions)
    say(f"costing {_what(cand)} with a trial build on the clone")
    try:
        t: TrialCost = on_clone(trial, cand.table, cand.key, cand.method, cand.extension, served, catalog)
    except TrialFailed as exc:
        return f"{_what(cand)} not costed: the trial build on the clone failed: {exc}"
    note = f"built on the clone ({t.rows:,.0f} rows): {t.size_bytes / 1048576:.1f} MB"
    return _Costed(cand, CostMethod.TRIAL_CLONE, t.before, t.after, t.used, t.size_bytes, note)


def _sampled(conn: psycopg.Connection[Any], catalog: Catalog, cand: KindCandidate, served: list[Planned],
             say: Callable[[str], None], companions: tuple[str, ...]) -> _Costed | str:
    """No clone: built on a bounded sample in a temporary table of this session, the plan change scaled."""
    say(f"costing {_what(cand)} with a build on a sample of the table")
    real = [_plan(conn, st) for st in served]
    try:
        t = on_sample(conn, catalog, cand.table, cand.key, cand.method, cand.extension, served, real,
                      companions)
    except TrialFailed as exc:
        return (f"{_what(cand)} would serve {', '.join(cand.filters[:3])}: not costed on a sample ({exc}); "
                "give --trial-dsn (a copy of this database) to cost it with a trial build")
    note = (f"built on a sample of {t.rows:,.0f} rows ({t.share:.1%} of the table) in a temporary table: "
            f"{t.size_bytes / 1048576:.1f} MB scaled to the whole table")
    return _Costed(cand, CostMethod.SAMPLE, t.before, t.after, t.used, t.size_bytes, note)


def _hypothetical(conn: psycopg.Connection[Any], cand: KindCandidate, served: list[Planned],
                  leaves: list[TableKey]) -> _Costed | str:
    """Plan the statements without and with a hypothetical index (this backend's memory only).

    On a partitioned table HypoPG's size is no size (1.3.1 gives a BRIN on a 1.2M-row parent 450 MB, on each
    partition 24 kB): the size is the sum of its hypothetical index on each leaf partition (``leaves``).
    """
    stmt = ddl.create_index(cand.table[0], cand.table[1], "pgtune_hypo", (cand.key,), concurrently=False,
                            method=cand.method)
    got = _what_if(conn, stmt, served)
    if isinstance(got, str):
        return f"{_what(cand)} not costed: {got}"
    before, after, used, size = got
    if leaves != [cand.table]:
        size = sum(_leaf_size(conn, ddl.create_index(s, t, "pgtune_hypo", (cand.key,), concurrently=False,
                                                     method=cand.method)) for s, t in leaves)
    return _Costed(cand, CostMethod.HYPOPG, before, after, used, size, f"HypoPG sizes it {size / 1048576:.2f} MB")


def _what_if(conn: psycopg.Connection[Any], stmt: str, served: list[Planned]) -> tuple[
        list[float | None], list[float | None], list[bool], int] | str:
    """Each statement's cost without and with the hypothetical index ``stmt``, whether it is used, its size."""
    try:
        before = [_plan(conn, st) for st in served]
        schema = catalog_sql.extension_schema(conn, "hypopg")
        create = sql.SQL("SELECT /* pgtune */ indexrelid, indexname, {}(indexrelid) FROM {}(%s)").format(
            catalog_sql.function(schema, "hypopg_relation_size"), catalog_sql.function(schema, "hypopg_create_index"))
        with raw_cursor(conn) as cur:      # its name as bytes: HypoPG cuts a long one inside a character maybe
            row = cur.execute(create, (stmt,)).fetchone()
        assert row is not None
        name = plan_name(conn, row[1])
        try:
            after = [_plan(conn, st) for st in served]
        finally:
            conn.execute(sql.SQL("SELECT /* pgtune */ {}(%s)").format(
                catalog_sql.function(schema, "hypopg_drop_index")), (row[0],))
    except psycopg.Error as exc:
        if session_stops(conn, exc):
            raise
        return error_text(exc)
    return ([b.cost if b else None for b in before], [a.cost if a else None for a in after],
            [bool(a and name in a.indexes) for a in after], int(row[2] or 0))


def _leaf_size(conn: psycopg.Connection[Any], stmt: str) -> int:
    """HypoPG's size of the index ``stmt`` makes, made and dropped in one statement."""
    schema = catalog_sql.extension_schema(conn, "hypopg")
    size, drop = catalog_sql.function(schema, "hypopg_relation_size"), catalog_sql.function(schema, "hypopg_drop_index")
    row = conn.execute(sql.SQL("WITH made AS (SELECT /* pgtune */ indexrelid FROM {}(%s)) "
                               "SELECT {}(indexrelid), {}(indexrelid) FROM made").format(
        catalog_sql.function(schema, "hypopg_create_index"), size, drop), (stmt,)).fetchone()
    return int(row[0] or 0) if row else 0


def _plan(conn: psycopg.Connection[Any], st: Planned) -> Plan | None:
    try:
        plan = explain(conn, st.query, values=st.values, context=st.context)     # its own rolled-back transaction
    except psycopg.Error as exc:
        if session_stops(conn, exc):
            raise
        return None
    return plan


def _judge(catalog: Catalog, c: _Costed, analyzed: list[AnalyzedStatement], served: list[Planned],
           writes: hot.HotWrites | None, write_scale: float,
           rival: IndexSuggestion | None = None) -> IndexSuggestion | str:
    """The proposal when the plans use it and the statements' calls x cost falls by MIN_CUT net of writes."""
    cand = c.cand
    rows = [(st, a, b, af) for st, a, b, af, u in zip(served, analyzed, c.before, c.after, c.used, strict=True)
            if u and b is not None and af is not None]
    if not rows and rival is not None and c.method == CostMethod.SAMPLE:
        # Built beside the proposed b-tree on its column (a companion), the plans chose the b-tree (p24: "no
        # plan ... uses it" read as if the BRIN served nothing; a 24 kB BRIN ran 1.7 ms, the 13.5 MB b-tree 0.55).
        size_b = rival.forecast_bytes or rival.estimated_bytes
        sized = f", {size_b / 1048576:.1f} MB," if size_b else ""
        return (f"{_what(cand)} not proposed ({c.method}): with both built on a sample, the plans of the statements "
                f"it serves take the proposed b-tree {rival.name}{sized} over it ({c.size_bytes / 1048576:.2f} MB)")
    if not rows:
        return f"{_what(cand)} costed ({c.method}): no plan of the statements it serves uses it"
    before = sum(st.calls * b for st, _a, b, _af in rows)
    after = sum(st.calls * af for st, _a, _b, af in rows)
    table = catalog.tables.get(cand.table)
    upkeep = (table.writes if table is not None else 0) * WRITE_COST * write_scale   # in the workload's window
    breakage = writes.breaks(cand.table, [cand.key.column], cand.method) if writes is not None else None
    charge = upkeep + (breakage.charge if breakage is not None else 0.0)
    floor = MIN_CUT_GIN if cand.method == IndexMethod.GIN else MIN_CUT
    if before <= 0 or (before - after - charge) < floor * before:
        cut = (before - after - charge) / before if before > 0 else 0.0
        return (f"{_what(cand)} not proposed ({c.method}): the statements it serves cost {before:,.0f} -> "
                f"{after:,.0f} (calls x cost), writes charged {charge:,.0f}: a {max(cut, 0.0):.0%} cut, under the "
                f"{floor:.0%} a {cand.method} index must make")
    return _suggestion(c, rows, before, after, upkeep, writes)


def _suggestion(c: _Costed, rows: list[tuple[Planned, AnalyzedStatement, float, float]], before: float,
                after: float, upkeep: float, writes: hot.HotWrites | None) -> IndexSuggestion:
    cand = c.cand
    schema, table = cand.table
    name = ddl.index_name(table, (cand.key,), suffix=f"{cand.method}_idx")
    reason = (f"serves {', '.join(cand.filters[:3])}{' …' if len(cand.filters) > 3 else ''}, which no b-tree "
              f"answers; {c.note}; costed by {c.method}")
    if cand.evidence:
        reason = f"{cand.evidence}; {reason}"
    hot_part = writes.reason(cand.table, [cand.key.column], cand.method) if writes is not None else ""
    if hot_part:
        reason += f"; {hot_part}"
    return IndexSuggestion(
        schema, table, name, [cand.key.column], [False],
        ddl.create_index(schema, table, name, (cand.key,), method=cand.method),
        ddl.drop_index(schema, name), ddl.analyze(schema, table), reason,
        expressions=[cand.key.expression],
        queries=[QueryRef(st.query, st.queryid, st.calls, userid=a.userid) for st, a, *_ in rows],
        values=[dict(st.values) for st, *_ in rows], values_source=[a.values_source for _st, a, *_ in rows],
        cost_before=before, cost_after=after, maintenance_cost=upkeep, forecast_bytes=c.size_bytes,
        method=cand.method, opclasses=[cand.key.opclass], extension=cand.extension, costed_by=c.method)


def _credit(c: _Costed, analyzed: list[AnalyzedStatement], name: str, *, replaced: bool) -> None:
    """The statements a proposal was taken for name it, at this server's cost scaled by the plan change the trial
    (or HypoPG) showed: only once it is taken (p28: a BRIN refused, or a GIN over the budget, was named by its
    statements all the same), and in place of a b-tree, at its own cost, not the b-tree's it replaced (p28: a
    BRIN's statements kept the b-tree's predicted 1,636x; the BRIN's own plans said 3.4x, its built plan 11x)."""
    for a, b, af, u in zip(analyzed, c.before, c.after, c.used, strict=True):
        if not u or b is None or af is None:
            continue
        a.indexes.append(name)
        if a.cost_before is not None and b > 0:
            mine = a.cost_before * af / b
            a.cost_after = mine if replaced or a.cost_after is None else min(a.cost_after, mine)


def _replaceable(advice: Advice, cand: KindCandidate) -> IndexSuggestion | None:
    """The proposed b-tree a BRIN candidate could stand in for: on its column, serving only its statements."""
    if cand.method != IndexMethod.BRIN:
        return None
    names = {n for p in cand.statements for n in advice.statements[p].indexes}
    if len(names) != 1:
        return None
    name = next(iter(names))
    s = next((ix for ix in advice.indexes if ix.name == name), None)
    if s is None or (s.schema, s.table) != cand.table or s.columns[:1] != [cand.key.column] or s.where is not None:
        return None
    mine = {advice.statements[p].query for p in cand.statements}
    return s if all(q.query in mine for q in s.queries) else None


def _rival(advice: Advice, cand: KindCandidate, positions: list[int]) -> IndexSuggestion | None:
    """The proposed b-tree led by a BRIN candidate's column that serves one of its statements: built beside it
    on a sample (_companions), the b-tree a plan may take instead (heuristic mode lists no index per statement)."""
    if cand.method != IndexMethod.BRIN:
        return None
    mine = {advice.statements[p].query for p in positions}
    return next((s for s in advice.indexes if (s.schema, s.table) == cand.table and s.method == IndexMethod.BTREE
                 and s.columns[:1] == [cand.key.column] and any(q.query in mine for q in s.queries)), None)


def _instead(conn: psycopg.Connection[Any], catalog: Catalog, advice: Advice, btree: IndexSuggestion,
             brin: IndexSuggestion, served: list[Planned]) -> str | None:
    """Replace ``btree`` by ``brin`` when the BRIN keeps BRIN_KEEPS of its saving at BRIN_SIZE of its size.

    The savings are compared with the heap priced as both indexes read it
    (_in_order): the BRIN's column follows the physical order, so a bitmap
    heap scan over its block ranges reads consecutive pages, as the b-tree's
    index scan does. The planner still counts a bitmap heap scan's pages as
    if its rows were scattered over the table (Mackert-Lohman, no
    correlation), so a BRIN that reads a few hundred pages can be costed as
    reading them all. Where that blind spot decides (the BRIN is small enough
    but costed under BRIN_KEEPS), both are built on a sample and the
    statements run there (sample_cost.race): the BRIN replaces the b-tree
    when it runs them at most BRIN_TIME as long.
    """
    ordered = _in_order(conn, btree, brin, served)
    saved_b = (btree.cost_before or 0.0) - (btree.cost_after or 0.0)
    saved_r = (brin.cost_before or 0.0) - (brin.cost_after or 0.0)
    pricing = "at the planner's default pricing"
    if ordered is not None:
        saved_b, saved_r = ordered
        pricing = "with the heap read in order (random_page_cost = seq_page_cost)"
    size_b, size_r = btree.forecast_bytes or btree.estimated_bytes or 0, brin.forecast_bytes or 0
    costed = (f"the b-tree {btree.name} saves {saved_b:,.0f} at {size_b / 1048576:.1f} MB, the BRIN {saved_r:,.0f} "
              f"at {size_r / 1048576:.2f} MB ({pricing})")
    if saved_b <= 0 or size_r > BRIN_SIZE * size_b:
        return f"{brin.name} not proposed: {costed}"
    how = f"keeps {saved_r / saved_b:.0%} of its saving {pricing}"
    if saved_r < BRIN_KEEPS * saved_b:
        raced = race(conn, catalog, (brin.schema, brin.table), _build(btree),
                     IndexBuild((IndexKey(brin.columns[0]),), IndexMethod.BRIN), served,
                     _companions(catalog, None, (brin.schema, brin.table)))
        if raced is None or raced.second_ms > BRIN_TIME * raced.first_ms:
            ran = (f"; on a sample of {raced.rows:,} rows the BRIN ran them in {raced.second_ms:,.1f} ms, the "
                   f"b-tree in {raced.first_ms:,.1f} ms (calls x best of {RUNS}, alternately)"
                   ) if raced is not None else ""
            return f"{brin.name} not proposed: {costed}{ran}"
        how = (f"the planner gives it {saved_r / saved_b:.0%} of its saving {pricing}, pricing its bitmap heap scan "
               f"as if the rows were scattered; on a sample of {raced.rows:,} rows ({raced.share:.1%}) the BRIN ran "
               f"its statements in {raced.second_ms:,.1f} ms, the b-tree in {raced.first_ms:,.1f} ms "
               f"(calls x best of {RUNS}, alternately, measured)")
    advice.indexes.remove(btree)
    for st in advice.statements:
        if btree.name in st.indexes:
            st.indexes.remove(btree.name)
    brin.reason += (f"; in place of the b-tree {btree.name} ({size_b / 1048576:.1f} MB): {how}, at "
                    f"{size_r / max(size_b, 1):.1%} of its size")
    return None


def _build(s: IndexSuggestion) -> IndexBuild:
    keys = tuple(IndexKey(c, d, e) for c, d, e in zip(
        s.columns, s.descending, s.expressions or [None] * len(s.columns), strict=False))
    return IndexBuild(keys, where=s.where, include=tuple(s.include))


def _in_order(conn: psycopg.Connection[Any], btree: IndexSuggestion, brin: IndexSuggestion,
              served: list[Planned]) -> tuple[float, float] | None:
    """The b-tree's and the BRIN's saving (calls x cost) on ``served`` with random_page_cost = seq_page_cost."""
    if brin.costed_by != CostMethod.HYPOPG:
        return None
    row = conn.execute("SELECT /* pgtune */ pg_catalog.current_setting('seq_page_cost')").fetchone()
    setting = ("random_page_cost", str(row[0]) if row else "1")
    priced = [replace(st, context=replace(st.context, settings=(*st.context.settings, setting))) for st in served]
    b = _build(btree)
    savings = []
    for stmt in (ddl.create_index(btree.schema, btree.table, "pgtune_hypo", b.keys, concurrently=False,
                                  where=b.where, include=b.include),
                 ddl.create_index(brin.schema, brin.table, "pgtune_hypo", (IndexKey(brin.columns[0]),),
                                  concurrently=False, method=IndexMethod.BRIN)):
        got = _what_if(conn, stmt, priced)
        if isinstance(got, str):
            return None
        savings.append(sum(st.calls * (b - a) for st, b, a, u in zip(served, *got[:3], strict=True)
                           if u and b is not None and a is not None))
    return savings[0], savings[1]
