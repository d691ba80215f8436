"""The wording of the advice: why a statement was skipped, why an index is proposed, what a refusal means.

Kept apart from the selection so the numbers are decided in one place and
said in another; the skip kinds are decided here from what was found (the
parse failure, the shape), next to the sentence that says them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import psycopg
from pglast import ast

from .._text import error_text
from ..capture import Catalog, Index, Statement, TableKey
from ..sqltext import Failure, ParseFailed, parse_one, seq
from .bind import Shape
from .candidates import Candidate
from .model import UNCOSTED, Advice, QueryRef, Rejected, SkipKind, Skipped
from .shape import FILTER


def _skip(st: Statement, reason: str, kind: SkipKind) -> Skipped:
    return Skipped(st.queryid, st.query, reason, kind, userid=st.userid)


def parse_skip(st: Statement, exc: ParseFailed) -> Skipped:
    """A statement pglast could not read (or a utility statement). pg_stat_statements keeps every text whole
    (in a file of its own: track_activity_query_size cuts pg_stat_activity's, not its): a long one that does not
    parse was told to raise that setting, a restart for nothing."""
    if exc.kind == Failure.INCOMPLETE:
        return _skip(st, "truncated or incomplete statement: " + exc.reason.removeprefix("unparsable: "),
                     SkipKind.TRUNCATED)
    return _skip(st, exc.reason, SkipKind.UTILITY if exc.kind == Failure.UTILITY else SkipKind.UNPARSABLE)


def tenant(st: Statement, unplaced: Mapping[int, str]) -> Skipped | None:
    """A schema-per-tenant statement whose tenant its queryid did not tell (capture.tenant_paths)."""
    why = unplaced.get(st.queryid) if st.queryid is not None else None
    return _skip(st, why, SkipKind.UNKNOWN_TABLE) if why is not None else None


def shape_skip(st: Statement, shape: Shape, exclude: tuple[str, ...],
               foreign: Mapping[TableKey, str] | None = None) -> Skipped | None:
    """Why a bound statement is left out (a temporary or excluded table, a foreign one, none known, nothing to
    index); ``foreign``: the database's foreign tables and their servers (Catalog.foreign)."""
    excluded = set(exclude)
    hit = sorted(f"{s}.{t}" for s, t in shape.tables if t in excluded or f"{s}.{t}" in excluded)
    if shape.temporary:
        return _skip(st, f"reads temporary table {', '.join(sorted(set(shape.temporary)))}: "
                       "it lives in the session that creates it; an index on it is that session's to create",
                       SkipKind.TEMPORARY)
    if hit:
        return _skip(st, f"excluded table {', '.join(hit)}", SkipKind.EXCLUDED)
    if shape.system and not shape.tables:         # its columns are the catalog's, unknown to pgtune too
        return _skip(st, "reads only catalog tables or views ("
                       + ", ".join(sorted(set(shape.system))[:5]) + "): no index of the application's serves it",
                       SkipKind.NO_FILTER)
    # The foreign tables the binder resolved its names to (its role's search_path), not any of the same name (c19).
    remote = sorted({f"{k[0]}.{k[1]} (server {(foreign or {}).get(k, '?')})" for k in shape.foreign})
    if remote and not shape.tables:
        return _skip(st, f"reads foreign table {', '.join(remote[:5])}: no index can be built "
                       "on a foreign table; its filter runs on the server that holds the rows (an index there serves "
                       "it)", SkipKind.FOREIGN_TABLE)
    if shape.unbound and not shape.tables:
        return _skip(st, "references no known table (temporary or dropped?): "
                       + ", ".join(sorted(set(shape.unbound))[:5]), SkipKind.UNKNOWN_TABLE)
    if all(u.role == FILTER for u in shape.uses):       # a filter no key serves (a <> 1) is no use either
        return _skip(st, "no filter, join or sort on a user table", SkipKind.NO_FILTER)
    return None


def in_function(st: Statement, shape: Shape, columns: set[str], tables: set[str]) -> Skipped | None:
    """A statement a function or trigger ran (pg_stat_statements.track = all) that names the function's variables.

    PL/pgSQL sends ``WHERE e.website_id = p_website`` and ``WHERE session_id = NEW.session_id`` as they are written,
    the variables bound by the function: planned alone, each was an ERROR in the server's log at every run and a
    "cannot plan: column "p_website" does not exist" line (p19). A name no table of the statement has as a column,
    or a qualified one whose qualifier is none of its tables (a record: NEW, OLD, a loop variable; not ON CONFLICT's
    EXCLUDED), is taken as one.
    ``columns``: the column names of the statement's tables; ``tables``: their names."""
    if not st.nested:
        return None
    names = []
    for ref in dict.fromkeys(shape.unbound):
        parts = ref.split(".")
        if (len(parts) == 1 and parts[0] not in columns) or (len(parts) > 1 and parts[-2] not in tables | {"excluded"}):
            names.append(ref)
    if not names:
        return None
    return _skip(st,
                   f"runs inside a function or trigger (pg_stat_statements.track = all): {', '.join(names[:3])} "
                   f"{'is one of its variables, not a column' if len(names) == 1 else 'are its variables, not columns'}"
                   ", so the statement cannot be planned alone; give it with values in a --queries file",
                   SkipKind.IN_FUNCTION)


# Functions a row may call by attribute notation (p.full_name is full_name(p): PostgREST's computed fields): one
# argument without a default, a row type or one any row fits.
_ROW_FUNCTIONS = ("SELECT /* pgtune */ DISTINCT p.proname::text FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_type t "
                  "ON t.oid = p.proargtypes[0] WHERE p.pronargs >= 1 AND p.pronargs - p.pronargdefaults <= 1 "
                  "AND (t.typtype = 'c' OR t.typname IN ('record', 'anyelement', 'anycompatible', 'any'))")


def row_functions(conn: psycopg.Connection[Any]) -> frozenset[str]:
    """The names ``alias.name`` may call as a function of the row (gone_column does not take them for columns)."""
    return frozenset(str(r[0]) for r in conn.execute(_ROW_FUNCTIONS).fetchall())


def gone_column(st: Statement, shape: Shape, row_functions: frozenset[str] = frozenset()) -> Skipped | None:
    """A statement that reads a column its table no longer has (``WHERE title = $1``, ``e.title`` in the select
    list or ORDER BY; stale_columns does the columns an INSERT or UPDATE writes): the binder's scope.lacks. Each
    plan of it was an ERROR in the server's log at every run (c27: 10 a run with HypoPG for five such statements).
    Not a qualified name a function of the row has (r24: ``p.full_name`` skipped a statement the server plans)."""
    gone = [g for g in dict.fromkeys(shape.gone) if "." not in g or g.rsplit(".", 1)[1] not in row_functions]
    if not gone:
        return None
    return _skip(st, f"cannot plan: it reads {'column' if len(gone) == 1 else 'columns'} {', '.join(gone[:3])}, "
                     "which its table no longer has (dropped or renamed since pg_stat_statements counted the "
                     "statement)", SkipKind.CANNOT_PLAN)


# The check ALTER TABLE … ADD FOREIGN KEY (and VALIDATE CONSTRAINT) runs once over the referencing table's rows
# (ri_triggers.c, RI_Initial_Check), seen as a nested statement with pg_stat_statements.track = all.
_RI_INITIAL_CHECK = re.compile(r"SELECT fk\..+ FROM (ONLY )?.+ fk LEFT OUTER JOIN (ONLY )?.+ pk ON \( ?pk\..+ "
                               r"WHERE pk\..+ IS NULL AND \(", re.S)


def foreign_key_check(st: Statement) -> Skipped | None:
    """A migration's foreign key check: DDL run once, not the application's workload (p24, trigger.dev-shaped:
    three of its checks got a partial index each, one a migration target measured "93,551.7x" by verify)."""
    if not st.nested or not _RI_INITIAL_CHECK.match(st.query):
        return None
    return _skip(st, "utility statement (the check ALTER TABLE … ADD FOREIGN KEY or VALIDATE CONSTRAINT runs once "
                     "over the table's rows, seen with pg_stat_statements.track = all) is not index-tunable",
                 SkipKind.UTILITY)


# The check each row written to a referencing table gets (ri_triggers.c, RI_FKey_check): its referenced row, by the
# key the foreign key requires a unique index on; the check of a deleted referenced row (ri_restrict) reads the
# referencing table ($1 = its column) and stays: an index on that column is what it lacks.
_NAME = r'(?:"(?:[^"]|"")*"|[^\s".]+)'
_RI_ROW_CHECK = re.compile(rf"SELECT (?:\$\d+|1) FROM (?:ONLY )?{_NAME}(?:\.{_NAME})? x WHERE {_NAME} "
                           rf"OPERATOR\(pg_catalog\.=\) \$\d+(?: AND {_NAME} OPERATOR\(pg_catalog\.=\) \$\d+)* "
                           r"FOR KEY SHARE OF x")


def referenced_row_check(st: Statement) -> Skipped | None:
    """The server's check of a written row's referenced key (p34, OpenPanel-shaped, track = all: 1,370,860 calls
    of one, 19% of the workload's planned cost and hinted "no index pgtune could propose makes it cheaper")."""
    if not st.nested or not _RI_ROW_CHECK.fullmatch(st.query.strip()):
        return None
    return _skip(st, "the server's foreign key check of each row written to a referencing table (seen with "
                     "pg_stat_statements.track = all): a lookup by the referenced key's unique index, not "
                     "index-tunable", SkipKind.UTILITY)


def stale_columns(st: Statement, shape: Shape, catalog: Catalog) -> Skipped | None:
    """An INSERT's or UPDATE's target column its table no longer has: pg_stat_statements still counts a
    statement from before a migration dropped or renamed it (p27, Documenso: a data migration's INSERT naming
    "organisationId", dropped two migrations later). Planned, it was an ERROR in the server's log three times a
    run; the catalog says so without asking the server."""
    try:
        node = parse_one(st.query)
    except ParseFailed:
        return None
    if not isinstance(node, (ast.InsertStmt, ast.UpdateStmt)) or node.relation is None:
        return None
    rel = node.relation
    # The target table: the one the statement reads by that name, else the catalog's only one (no other
    # search_path decides it then).
    keys = [k for k in shape.tables if k[1] == rel.relname and rel.schemaname in (None, "", k[0])] or \
        [k for k in catalog.tables if k[1] == rel.relname and rel.schemaname in (None, "", k[0])]
    table = catalog.tables.get(keys[0]) if len(keys) == 1 else None
    if table is None:
        return None
    targets = seq(node.cols) if isinstance(node, ast.InsertStmt) else seq(node.targetList)
    missing = [t.name for t in targets if isinstance(t, ast.ResTarget) and t.name and t.name not in table.columns]
    if not missing:
        return None
    return _skip(st, f"cannot plan: {keys[0][0]}.{keys[0][1]} has no column {', '.join(missing[:3])} (dropped or "
                     "renamed since pg_stat_statements counted the statement)", SkipKind.CANNOT_PLAN)


def cannot_plan(st: Statement, exc: Exception) -> Skipped:
    return _skip(st, f"cannot plan: {error_text(exc)}", SkipKind.CANNOT_PLAN)


def refused(cand: Candidate, exc: Exception, queries: list[QueryRef]) -> Rejected:
    """A candidate the server will not create as an index (an aggregate, a volatile function…)."""
    return Rejected(schema=cand.table[0], table=cand.table[1], keys=[k.ident for k in cand.keys],
                    reason=f"the server refuses this index: {error_text(exc)}", queries=queries)


def invalid_twin(index: Index, why: str | None = None) -> str:
    """The hint for an INVALID index that would serve a candidate: health rebuilds it, so no twin is proposed;
    or health cannot (``why``), so it counts for nothing and a plain index is priced as if it were absent."""
    head = f'{index.schema}."{index.name}" is INVALID ({index.definition}): '
    if why is not None:
        return (head + f"no query uses it and `pgtune health` cannot rebuild it ({why}); the statements it would "
                "serve are priced as if it were absent, and any index proposed for them is a plain, non-unique one")
    return head + ("the statements it serves would use it once complete; `pgtune health` proposes the fix, so no "
                   "twin is proposed here")


def index_reason(cand: Candidate, catalog: Catalog, *, before: float | None, after: float | None, served: int,
                 upkeep: float, kept: float | None, generic: int, redundant: list[str]) -> str:
    """Why an index is proposed: what it serves and saves, its predicate, and what it makes redundant.

    ``kept`` is the share of rows a partial index keeps; ``generic`` the statements it
    serves that were planned with a $n still generic.
    """
    reason = _gains(cand, catalog, before, after, served, upkeep, kept)
    if generic:
        reason += (f"; {generic} of its statements planned with a $n no rule gives a value "
                   "(generic there): that part of the gain is the generic plan's")
    elif cand.foreign_key is not None and not served:
        reason += _unused(cand)
    if redundant:
        reason += f"; makes existing {', '.join(redundant)} redundant (it serves all they do)"
    return reason


def _unused(cand: Candidate) -> str:
    """Why a foreign key's index no plan uses is proposed: with HypoPG, only the deletes on its parent keep it
    (candidates.kept_unused); without, a key the workload joins on is proposed from its shape alone."""
    fk = cand.foreign_key
    if fk is None:
        return ""
    if not cand.parent_deletes:
        return "; the workload joins on it (judged by its shape: no plan was asked without HypoPG)"
    return (f"; no statement's plan uses it: kept for the deletes on {fk.ref_table} (each deleted row makes the "
            f"server search {fk.table} by this key, to cascade or to check, a search no plan shows)")


def _gains(cand: Candidate, catalog: Catalog, before: float | None, after: float | None, served: int,
           upkeep: float, kept: float | None) -> str:
    parts = [served_phrase(served, before, after)] if served else []
    if cand.where:
        share = f"{kept:.2%} of rows" if kept is not None else "few rows"
        parts.append(f"partial: only rows where {cand.where} ({share}{_distinct_note(cand, catalog)})")
    if cand.include:
        parts.append("INCLUDE for index-only scans")
    if cand.foreign_key is not None:
        fk = cand.foreign_key
        parts.append(f"foreign key {fk.name} to {fk.ref_table} has no index")
    if upkeep and before and after:
        parts.append(upkeep_phrase(upkeep, before, after))
    return "; ".join(parts) or "candidate from the workload shape"


def served_phrase(served: int, before: float | None, after: float | None) -> str:
    """How many statements an index serves and by how much it cuts them: the reason's first part, which
    analyze.recredit writes again when a withdrawal leaves the index fewer statements."""
    said = f"serves {served} statement{'s' if served != 1 else ''}"
    return f"{said}; planner cost {before / after:.1f}x lower" if before and after else said


def upkeep_phrase(upkeep: float, before: float, after: float) -> str:
    return f"write upkeep {upkeep:,.0f} < saving {before - after:,.0f}"


def _distinct_note(cand: Candidate, catalog: Catalog) -> str:
    """Why the predicate's column is status-like, e.g. ``; status has 3 distinct values``."""
    if cand.where_column is None:
        return ""
    n = catalog.distinct_values(cand.table, cand.where_column)
    return f"; {cand.where_column} has {n:,.0f} distinct values" if n else ""


def uncosted(advice: Advice) -> str:
    """What the advice leaves out: the statements no plan costed, and their share of the workload's time."""
    kinds: dict[str, int] = {}
    for sk in advice.skipped:
        if sk.kind in UNCOSTED:
            kinds[sk.kind] = kinds.get(sk.kind, 0) + 1
    why = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
    return (f"{advice.uncosted_statements} statement(s) holding {advice.uncosted_share:.0%} {advice.uncosted_of} "
            f"were not costed ({why or 'no plan'}; --format json lists them under skipped): the headline and the "
            "proposals cover only the rest")


def per_tenant(advice: Advice, catalog: Catalog, min_rows: int) -> list[str]:
    """One line when indexes are proposed on tables other schemas hold too, with the same columns (a schema
    per tenant): on how many of them each, and that the rest and a tenant made later get none (p30: the same
    index was listed three times among 150 workspaces, nothing saying it was per tenant)."""
    by_name: dict[tuple[str, str], list[str]] = {}
    for ix in advice.indexes:
        by_name.setdefault((ix.table, ix.name), []).append(ix.schema)
    each, schemas_of = [], 0
    for (table, name), schemas in by_name.items():
        ref = catalog.tables.get((schemas[0], table))
        if ref is None:
            continue
        holders = sum(1 for k, t in catalog.tables.items() if k[1] == table and t.columns == ref.columns)
        if holders >= 2:
            each.append(f"{name} on {len(schemas)} of {holders}")
            schemas_of = max(schemas_of, holders)
    if not each:
        return []
    shown = "; ".join(each[:6]) + (f"; {len(each) - 6} more" if len(each) > 6 else "")
    return [f"a schema per tenant: {len(each)} index(es) proposed on some of the up to {schemas_of} schemas "
            f"holding the same table ({shown}): the other schemas' tables are under --min-rows ({min_rows:,} "
            "rows) or their statements did not need it, and a schema made later (a new tenant) gets none: where "
            "every tenant should have one, add it to the application's own per-tenant schema setup"]
