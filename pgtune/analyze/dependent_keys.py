"""A proposal whose only key beyond an existing index's is a column the others determine serves nothing new.

The planner multiplies the selectivities of ``"runtimeEnvironmentId" = $1``
and ``"projectId" = $2`` as if the columns were independent. When the
environment decides the project, an index on (projectId, taskIdentifier,
runtimeEnvironmentId) looks 18-37x cheaper than the existing unique
(runtimeEnvironmentId, taskIdentifier, idempotencyKey) for the same lookup,
while both read the same rows: u11 measured the Trigger.dev-shaped lookup
slower with it (36 -> 67 ms). So after the selection, each b-tree proposal
whose keys are an existing valid b-tree's leading keys plus one column is
checked on a bounded, read-only sample of the table (TABLESAMPLE SYSTEM,
about SAMPLE_ROWS rows): where the other keys determine that column
(their distinct combinations gain no more than NEAR with it, and repeat
GROUP times on average: a near-unique "createdAt" determines anything), it is
withdrawn, and the hint names the columns and CREATE STATISTICS
(dependencies), which teaches the planner what the sample showed.

The same holds inside one proposal (q9, Trigger.dev): the greedy chose
(projectId, taskIdentifier, runtimeEnvironmentId, status), whose projectId
the environment decides. Each proposal's keys are sampled once more (one
statement per proposal): a key but the last that the others determine is
taken out of it (``narrow``), the statements it served are planned again
with the narrower index (analyze.replan), and the hint says why. "As a key it
finds no row the others do not" holds for a statement that compares the others:
where a statement the proposal served does not take the narrower index (t36: row
security's "teamId" led it for the statements naming no user), ``keep_served``
gives the proposal back the keys the selection chose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from .. import ddl
from .._text import error_text
from ..capture import Catalog, Index
from ..connect import lost
from ..ddl import IndexKey
from .candidates import Candidate, Origin, made_redundant
from .footprint import Footprint
from .model import Advice, AnalyzedStatement, IndexSuggestion

SAMPLE_ROWS = 30_000        # rows the sample reads, about (whole pages: TABLESAMPLE SYSTEM)
NEAR = 1.05                 # distinct combinations with the column / without it: at most this, determined
GROUP = 5                   # the others' combinations must repeat (rows per combination, on average) to say
TIMEOUT_MS = 5_000          # the sample's statement_timeout: a slow sample decides nothing
SKEWED = 0.9                # a key column whose most common value holds this share of rows is never taken out
MIN_ROWS = 10_000           # a proposal's own keys are sampled on tables of at least this many rows
# What narrow changes in a proposal, given back by keep_served.
_CHANGED = ("name", "columns", "descending", "expressions", "ddl", "rollback", "forecast_bytes", "estimated_bytes",
            "reason", "redundant")


@dataclass
class Narrowed:
    """A proposal narrow took a key out of, as the selection had made it, and the statements it served then."""

    proposal: IndexSuggestion
    before: dict[str, Any]
    served: list[AnalyzedStatement]
    hint: str


def review(conn: psycopg.Connection[Any], catalog: Catalog, advice: Advice) -> list[Narrowed]:
    """Withdraw each b-tree workload proposal an existing index serves as well but for a determined column; the
    proposals narrowed (a key their others determine taken out), for keep_served once they are planned again."""
    for s in list(advice.indexes):
        if (s.origin != Origin.WORKLOAD or str(s.method) != "btree" or s.where or s.include
                or any(s.expressions or []) or len(s.columns) < 2):
            continue
        for existing in catalog.indexes_on((s.schema, s.table)):
            extra = _extra_column(s, existing)
            if extra is None or _skewed(catalog, s, extra):
                continue
            others = [c for c in s.columns if c != extra]
            if _determined(conn, catalog, s, others, extra):
                named = ", ".join(f'"{c}"' for c in others)
                advice.withdraw(s.name, (
                    f'{s.name} withdrawn: {existing.name} leads with the same keys but "{extra}", which {named} '
                    f"determine (a sample of the table): the planner took them as independent, so the gain it "
                    f'credited is not there; CREATE STATISTICS (dependencies) ON "{extra}", {named} FROM '
                    f'{s.schema}."{s.table}" (then ANALYZE) tells it'), s.schema)
                break
    narrowed = []
    for s in list(advice.indexes):
        if s.origin == Origin.WORKLOAD and str(s.method) == "btree" and not s.where \
                and not any(s.expressions or []) and not any(s.opclasses) and _worth_sampling(catalog, s):
            dead = _dead_key(conn, catalog, s)
            if dead is not None:
                before = {f: getattr(s, f) for f in _CHANGED}
                served = [st for st in advice.statements if s.name in st.indexes]
                hints = len(advice.hints)
                narrow(conn, catalog, advice, s, dead)
                if any(s is o for o in advice.indexes) and s.name != before["name"]:
                    narrowed.append(Narrowed(s, before, served, advice.hints[hints]))
    return narrowed


def keep_served(advice: Advice, narrowed: list[Narrowed]) -> bool:
    """Give each narrowed proposal that a statement it served no longer takes (analyze.replan has planned them
    again) the keys the selection chose, its statements to plan again (True: some). The key its others determine
    finds no row they do not for a statement that compares them all; one comparing that key and not the others
    (t36: row security's "teamId" and an envelope, no user) loses the index with it: 31.8M -> 16.4M planner cost
    where the selection's index gave 148k."""
    undone = False
    for n in narrowed:
        s = n.proposal
        lost_it = [st for st in n.served if s.name not in st.indexes]
        if all(s is not o for o in advice.indexes) or not lost_it:
            continue
        narrower = s.name
        for f, value in n.before.items():
            setattr(s, f, value)
        advice.hints = [h for h in advice.hints if h is not n.hint]
        advice.hints.append(f"{s.name} kept as chosen, not narrowed to {narrower}: {len(lost_it)} of the "
                            f"{len(n.served)} statements it served do not take the narrower index (they compare the "
                            "key taken out without all the others)")
        for st in n.served:
            if s.name not in st.indexes:
                st.indexes.append(s.name)
            if all(st is not other for other in advice.replan):
                advice.replan.append(st)
        undone = True
    return undone


def _worth_sampling(catalog: Catalog, s: IndexSuggestion) -> bool:
    """Could a key of ``s`` but its last be one its other keys determine, by the catalog's statistics?

    Not on a table under MIN_ROWS rows (a key too many costs little there;
    benchmarks/speed.py's 899 proposals on 2,000-row tables took 4.7 s of
    round trips at load 10), nor where every key's others hold a near-unique
    column (pg_stats): their combinations cannot repeat GROUP times.
    """
    table = catalog.tables.get((s.schema, s.table))
    if table is None or table.reltuples < MIN_ROWS or len(s.columns) < 2:
        return False
    distinct = [catalog.distinct_values((s.schema, s.table), c) for c in s.columns]
    return any(max(d for j, d in enumerate(distinct) if j != i) * GROUP <= table.reltuples
               for i in range(len(s.columns) - 1))


def narrow(conn: psycopg.Connection[Any], catalog: Catalog, advice: Advice, s: IndexSuggestion, dead: str) -> None:
    """Take key ``dead`` out of proposal ``s`` (renamed to match); withdraw it when an index has the rest.

    Its forecast is the narrower index's, made as selection makes one (a
    sample of the keys on a large table): the wider one's stayed (m10).
    """
    others = [c for c in s.columns if c != dead]
    named = ", ".join(f'"{c}"' for c in others)
    why = (f'"{dead}" is determined by {named} (a sample of the table): as a key it finds no row the others do '
           f"not; the planner took them as independent")
    keys = tuple(IndexKey(c, d) for c, d in zip(s.columns, s.descending, strict=True) if c != dead)
    same = [i.name for i in catalog.indexes_on((s.schema, s.table)) if i.is_valid and i.method == "btree"
            and not i.predicate and list(i.columns[:len(others)]) == others] + \
        [o.name for o in advice.indexes if o is not s and (o.schema, o.table) == (s.schema, s.table)
         and o.columns[:len(others)] == others and not o.where]
    if same:
        advice.withdraw(s.name, f"{s.name} withdrawn: {why}, and {same[0]} leads with the rest", s.schema)
        return
    old = s.name
    include = tuple(s.include)
    s.name = catalog.free_name(s.schema, ddl.index_name(s.table, keys, catalog.index_suffix, include=include),
                               lambda n: ddl.index_name(s.table, keys, f"{catalog.index_suffix}{n}", include=include))
    s.columns, s.descending, s.expressions = others, [k.descending for k in keys], [None] * len(keys)
    s.ddl = ddl.create_index(s.schema, s.table, s.name, keys, include=include)
    s.rollback = ddl.drop_index(s.schema, s.name)
    if s.forecast_bytes is not None:
        s.forecast_bytes = Footprint(conn, catalog, 0.0).forecast(
            Candidate((s.schema, s.table), keys, len(keys), include=include))
    s.reason = f'{_still_redundant(catalog, s, keys)}; "{dead}" left out: {why}'
    advice.hints.append(f"{old} narrowed to {s.name}: {why}; CREATE STATISTICS (dependencies) ON \"{dead}\", "
                        f'{named} FROM {s.schema}."{s.table}" (then ANALYZE) tells it')
    for st in advice.statements:
        if old in st.indexes:
            st.indexes[st.indexes.index(old)] = s.name
            if all(st is not other for other in advice.replan):
                advice.replan.append(st)


def _still_redundant(catalog: Catalog, s: IndexSuggestion, keys: tuple[IndexKey, ...]) -> str:
    """Keep only the existing indexes the narrower index still serves all of; the reason without the others.

    Found on p17's run: ("account", day) narrowed to (day) kept "makes existing (account) redundant", and the
    migration dropped the only index on "account" for an index on day alone."""
    kept = [n for n in made_redundant(Candidate((s.schema, s.table), keys, len(keys), where=s.where,
                                                include=tuple(s.include)), catalog) if n in s.redundant]
    reason = s.reason
    if kept != s.redundant:
        claim = f"; makes existing {', '.join(s.redundant)} redundant (it serves all they do)"
        reason = reason.replace(claim, f"; makes existing {', '.join(kept)} redundant (it serves all they do)"
                                if kept else "")
    s.redundant = kept
    return reason


def _dead_key(conn: psycopg.Connection[Any], catalog: Catalog, s: IndexSuggestion) -> str | None:
    """A key of ``s`` but its last that its other keys determine in a sample of the table, if any.

    One statement: the distinct combinations of all the keys, and of all but
    each one; a key is determined when leaving it out loses no more than NEAR
    of them, and the rest repeat GROUP times on average.
    """
    cols = [sql.Identifier(c) for c in s.columns]
    without = [sql.SQL("count(DISTINCT ROW({}))").format(sql.SQL(", ").join(c for j, c in enumerate(cols) if j != i))
               for i in range(len(cols) - 1)]
    row = _sample(conn, catalog, s, sql.SQL("count(*), count(DISTINCT ROW({})), {}").format(
        sql.SQL(", ").join(cols), sql.SQL(", ").join(without)))
    if row is None or not row[0]:
        return None
    rows, every = row[0], row[1]
    for column, rest in zip(s.columns, row[2:], strict=False):
        if rest and rest >= 2 and rest * GROUP <= rows and every <= NEAR * rest and not _skewed(catalog, s, column):
            return column
    return None


def _skewed(catalog: Catalog, s: IndexSuggestion, column: str) -> bool:
    """Does one value hold SKEWED of ``column``'s rows (pg_stats)? Then few combinations carry its other values,
    and the sample reads it as determined, while a statement after a rare value (a queue's 'pending' among
    'done') needs it as a key (r10)."""
    st = catalog.column_stats.get((s.schema, s.table, column))
    return st is not None and bool(st.most_common_freqs) and st.most_common_freqs[0] >= SKEWED


def _sample(conn: psycopg.Connection[Any], catalog: Catalog, s: IndexSuggestion,
            counts: sql.Composable) -> tuple[Any, ...] | None:
    """``counts`` over a bounded, read-only sample of ``s``'s table; None (and a word in its reason) on failure."""
    table = catalog.tables.get((s.schema, s.table))
    if catalog.policed((s.schema, s.table)):
        _unknown(s, "row security filters pgtune's reads")
        return None
    rows = table.reltuples if table is not None else -1
    share = min(1.0, SAMPLE_ROWS / rows) if rows > 0 else 1.0
    sampling = sql.SQL(" TABLESAMPLE SYSTEM ({}) REPEATABLE (7)").format(sql.Literal(round(share * 100, 4))) \
        if share < 1.0 else sql.SQL("")
    query = sql.SQL("SELECT /* pgtune */ {counts} FROM {table}{sampling}").format(
        counts=counts, table=sql.Identifier(s.schema, s.table), sampling=sampling)
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("SET /* pgtune */ TRANSACTION READ ONLY")
            conn.execute(sql.SQL("SET /* pgtune */ LOCAL statement_timeout = {}").format(sql.Literal(TIMEOUT_MS)))
            return conn.execute(query).fetchone()
    except psycopg.Error as exc:
        if lost(conn):
            raise
        _unknown(s, error_text(exc))
        return None


def _unknown(s: IndexSuggestion, why: str) -> None:
    """Say once in ``s``'s reason that its keys' dependence is unknown: each existing index beside it and its own
    keys ask again (u37, Formbricks as the app role: the same clause four times in one reason)."""
    clause = f"; whether its keys depend on one another is unknown ({why})"
    if clause not in s.reason:
        s.reason += clause


def _extra_column(s: IndexSuggestion, existing: Index) -> str | None:
    """The one key of ``s`` not among ``existing``'s leading keys, when the rest are those keys (any order)."""
    if not existing.is_valid or existing.method != "btree" or existing.predicate:
        return None
    lead = existing.columns[:len(s.columns) - 1]
    if len(lead) != len(s.columns) - 1 or None in lead:
        return None
    extra = [c for c in s.columns if c not in lead]
    return extra[0] if len(extra) == 1 and set(lead) <= set(s.columns) else None


def _determined(conn: psycopg.Connection[Any], catalog: Catalog, s: IndexSuggestion, others: list[str],
                extra: str) -> bool:
    """Do ``others`` determine ``extra`` in a sample of the table (False when the sample cannot say)?"""
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in others)
    row = _sample(conn, catalog, s, sql.SQL("count(DISTINCT ROW({cols})), count(DISTINCT ROW({cols}, {extra})), "
                                            "count(*)").format(cols=cols, extra=sql.Identifier(extra)))
    if row is None or not row[0] or row[0] < 2 or row[0] * GROUP > row[2]:
        return False        # near-unique others (a timestamp among them) determine any column: no evidence
    return bool(row[1] <= NEAR * row[0])
