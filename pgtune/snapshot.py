"""One capture of everything the advice depends on: capabilities, workload, catalog, window.

The analysis works on a Snapshot, so what was read from the server is read
once, in one place, and can be inspected (or replayed in a test) apart from
what was concluded from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from . import catalog_sql, ddl
from ._text import Progress
from .capabilities import HIDDEN_TEXT, Capabilities, probe
from .capture import (
    Catalog,
    Statement,
    TableKey,
    WorkloadFilter,
    WriteStatement,
    merge_workloads,
    read_adhoc,
    read_catalog,
    read_temporary_names,
    read_unseen_writers,
    read_workload,
    read_writes,
    tenant_paths,
    write_window_scale,
)
from .connect import lost
from .errors import InputError, MissingCapability
from .roles import Roles, read_roles, role_oid
from .sqltext import unqualified_relations

Qual = tuple[TableKey, str, str]     # a "column operator value" qual: (table, column, operator)


@dataclass(frozen=True)
class QualConstant:
    """A constant pg_qualstats saw a statement compare with a column, and how often."""

    table: TableKey
    column: str
    op: str
    value: str              # the constant as the server printed it: 'pending'::text, 42
    occurrences: int
    filtered: int = 0       # rows its executions read and threw away
    executions: int = 0     # rows its executions evaluated it on (pg_qualstats' execution_count): how heavy


@dataclass(frozen=True)
class QualShare:
    """A qual pg_qualstats kept without its constant (a cast, a generic plan), and the share of rows it kept.

    Only for a qual that was the only filter of its plan node: the rows the
    node threw away are then this qual's doing.
    """

    table: TableKey
    column: str
    op: str
    executions: int         # rows the qual was evaluated on
    filtered: int           # rows it threw away

    @property
    def kept(self) -> float:
        return 1.0 - self.filtered / self.executions if self.executions else 1.0


@dataclass
class Snapshot:
    capabilities: Capabilities
    catalog: Catalog
    statements: list[Statement]              # the workload pgtune can read
    hidden: list[Statement] = field(default_factory=list)   # other roles' statements, text withheld
    write_scale: float = 0.0                 # table write counters scaled to the workload's window
    from_server: bool = True                 # pg_stat_statements (True) or statements given by the caller
    constants: dict[int, list[QualConstant]] = field(default_factory=dict)   # queryid -> pg_qualstats constants
    shares: dict[int, list[QualShare]] = field(default_factory=dict)   # queryid -> quals seen without a constant
    examples: dict[int, str] = field(default_factory=dict)   # queryid -> pg_qualstats' example of its text as sent
    unseen: dict[int, dict[Qual, int]] = field(default_factory=dict)   # queryid -> (table, column, op) pg_qualstats
    # saw run without a constant in some executions -> how many (read_unseen)
    unseen_rows: dict[int, dict[Qual, tuple[int, int]]] = field(default_factory=dict)   # ... -> the rows those
    # executions read and let through (execution_count, less nbfiltered)
    roles: Roles = field(default_factory=Roles)  # the workload's roles: search_path, row security
    left_out: list[str] = field(default_factory=list)   # whose statements were not counted as the workload, and why

    def hints(self) -> list[str]:
        seen = [*self.left_out, *self.capabilities.stats_hints()]
        if not self.hidden:
            return seen
        total = len(self.hidden) + len(self.statements)
        return [*seen,
                f"{len(self.hidden)} of the top {total} statements are hidden from role "
                f"{self.capabilities.role!r} (<insufficient privilege>): "
                f"GRANT pg_read_all_stats TO {ddl.name(self.capabilities.role)};"]


def collect_workload(conn: psycopg.Connection[Any], filt: WorkloadFilter,
                     replicas: Sequence[psycopg.Connection[Any]] = ()) -> list[Statement]:
    """pg_stat_statements of the primary, merged by queryid with each replica's."""
    probe(conn).require_workload()
    workloads = [read_workload(conn, filt)]
    here = _where(conn) if replicas else None
    for rep in replicas:
        _not_this_server(here, _where(rep))
        probe(rep).require_workload()
        workloads.append(read_workload(rep, filt))
    return merge_workloads(*workloads)[: filt.top] if replicas else workloads[0]


def _where(conn: psycopg.Connection[Any]) -> tuple[Any, ...]:
    """(system identifier, database, postmaster start time) of a server; the first None where the role may not
    read it."""
    may = conn.execute("SELECT /* pgtune */ pg_catalog.has_function_privilege('pg_catalog.pg_control_system()', "
                       "'EXECUTE')").fetchone()
    ident = sql.SQL("(SELECT system_identifier FROM pg_catalog.pg_control_system())" if may and may[0] else
                    "NULL::int8")
    row = conn.execute(sql.SQL("SELECT /* pgtune */ {}, pg_catalog.current_database(), "
                               "pg_catalog.pg_postmaster_start_time()").format(ident)).fetchone()
    return tuple(row) if row else (None, None, None)


def _not_this_server(here: tuple[Any, ...] | None, there: tuple[Any, ...]) -> None:
    """Refuse a --workload-dsn that reaches this server again, or another database of the same cluster (a
    physical replica holds the same databases under the primary's system identifier): its statements would be
    counted as this database's (p21: a staging database beside the application's, same table names, 36,061
    calls became 158,402 with no word; r21: the primary's own DSN, by another host name, doubled every call and
    workload_ms)."""
    if here is None:
        return
    same_server = here[2] == there[2] and (here[0] == there[0] or None in (here[0], there[0]))
    if same_server and here[1] == there[1]:
        raise InputError(f"--workload-dsn reaches database {here[1]!r} of this same server, not a replica: its "
                         "statements would be counted twice; give a replica's DSN, or leave --workload-dsn out")
    if not same_server and (here[0] is None or here[0] != there[0] or here[1] == there[1]):
        return
    raise InputError(f"--workload-dsn reaches database {there[1]!r} of this same cluster, not a replica of "
                     f"{here[1]!r}: its statements would count as those of {here[1]!r}; give a replica's DSN with "
                     f"dbname={here[1]}")


def _hidden(conn: psycopg.Connection[Any], statements: list[Statement], caps: Capabilities) -> list[Statement]:
    """The statements whose text pg_stat_statements hides from this role; refused when they are most of the
    workload: advice for the visible rest would be advice for a workload that is not the real one. The refusal
    names whose they are: another role's (the owner's, or pgtune's own earlier run as it: its EXPLAINs and proofs
    are not told apart once hidden) need no privilege for the role, only --workload-role for the statements it
    reads (u6: suggest as the application's role stopped, all its own statements visible)."""
    hidden = [st for st in statements if st.query == HIDDEN_TEXT]
    hidden_ms = sum(st.total_ms for st in hidden)
    if hidden and (len(hidden) == len(statements) or hidden_ms >= 0.5 * sum(st.total_ms for st in statements)):
        counts: dict[int, int] = {}
        for st in hidden:
            if st.userid is not None:
                counts[st.userid] = counts.get(st.userid, 0) + 1
        with conn.cursor(row_factory=dict_row) as cur:
            names = {int(r["oid"]): str(r["name"]) for r in
                     cur.execute(catalog_sql.load("role_settings"), {"roles": sorted(counts)}).fetchall()}
        whose = ", ".join(f"{names.get(oid, oid)} ({n})" for oid, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        own = ""
        if len(hidden) < len(statements):
            own = (f"; or, when those roles are not the application's (its owner, a person, pgtune run as another "
                   f"role), only the statements whose text it reads: --workload-role {caps.role}")
        raise MissingCapability(
            f"pg_stat_statements hides the text of {len(hidden)} of the top {len(statements)} statements "
            f"({hidden_ms:,.0f} ms of execution) from role {caps.role!r}"
            f"{': those of ' + whose if whose else ''}. "
            f"GRANT pg_read_all_stats TO {ddl.name(caps.role)}; (or run pgtune as a role that has it){own}")
    return hidden


def snapshot(conn: psycopg.Connection[Any], workload: WorkloadFilter | None = None, *,
             statements: list[Statement] | None = None, replicas: Sequence[psycopg.Connection[Any]] = (),
             progress: Progress | None = None, role: str | None = None) -> Snapshot:
    """Read the workload (unless ``statements`` are given) and the catalog.

    ``role``: the role given statements ran as (their search_path and row
    security); pg_stat_statements names each statement's own.

    Refuses a workload whose text is mostly hidden by privileges: advice for
    the visible rest would be advice for a workload that is not the real one.
    """
    say = progress or (lambda _m: None)
    caps = probe(conn)
    from_server = statements is None
    if statements is None:
        say("reading pg_stat_statements")
        statements = collect_workload(conn, workload or WorkloadFilter(), replicas)
    hidden = _hidden(conn, statements, caps)
    say("reading the catalog")
    catalog = read_catalog(conn)
    catalog.temporary = read_temporary_names(conn, (workload or WorkloadFilter()).database,
                                             None if from_server else [st.query for st in statements])
    if role is not None:
        oid = role_oid(conn, role)
        if oid is None:
            raise InputError(f"--role {role!r}: no such role on this server")
        statements = [st if st.userid is not None else replace(st, userid=oid) for st in statements]
    filt = workload or WorkloadFilter()
    writes = read_writes(conn, filt.database, filt.roles) if from_server else None
    unread = writes if isinstance(writes, str) else None
    writes = None if isinstance(writes, str) else writes
    userids = {st.userid for st in statements if st.userid is not None}
    userids |= {w.userid for w in writes or [] if w.userid is not None}
    roles = read_roles(conn, userids, catalog.search_path, database=(workload or WorkloadFilter()).database,
                       sessions=from_server)
    scale = write_window_scale(conn) if from_server else 0.0
    left_out = read_adhoc(conn, workload or WorkloadFilter()) if from_server else []
    left_out += found_schemas(roles, catalog, statements)
    placing = statements + [Statement(w.query, w.queryid, userid=w.userid) for w in writes or [] if w.query]
    left_out += tenant_paths.place(conn, roles, catalog, placing) if from_server else []
    left_out += caps.replica_hints(len(replicas)) if from_server else []
    if not from_server and role is None:
        statements, told = other_paths(conn, catalog, statements, caps.role)
        left_out += told
    if writes is not None:
        left_out += charge_window_writes(catalog, roles, writes, scale, read_unseen_writers(conn, catalog))
    elif unread is not None:
        left_out.append(f"index upkeep is estimated from the tables' counters (pg_stat_user_tables), which may hold "
                        f"writes from before pg_stat_statements' window (a load, a restore): the workload's own "
                        f"writes could not be read ({unread})")
    return Snapshot(
        capabilities=caps, catalog=catalog,
        statements=[st for st in statements if st.query != HIDDEN_TEXT], hidden=hidden,
        # Statements from a file carry no call counts to weigh write upkeep against.
        write_scale=scale,
        from_server=from_server,
        **(_qualstats(conn, replicas, statements) if from_server and caps.qualstats_installed else {}),
        roles=roles, left_out=left_out)


def _qualstats(conn: psycopg.Connection[Any], replicas: Sequence[psycopg.Connection[Any]],
               statements: list[Statement]) -> dict[str, Any]:
    """pg_qualstats' constants, shares, examples and unseen quals of the workload, the replicas' merged in.

    A statement only a replica runs (--workload-dsn: read-replica analytics) has its constants only in the
    replica's pg_qualstats (p16: a Papermark-shaped standby's team filter, 30% of calls for one team, was planned
    with pg_stats' small team from the primary: 21.2x claimed, none measured with the application's values). A
    replica without a readable pg_qualstats adds nothing.
    """
    ids = [st.queryid for st in statements if st.queryid is not None]
    parts = [(read_constants(conn), read_shares(conn), read_examples(conn, ids), *read_unseen(conn))]
    for replica in replicas:
        try:
            parts.append((read_constants(replica), read_shares(replica), read_examples(replica, ids),
                          *read_unseen(replica)))
        except psycopg.Error:
            if lost(replica):
                raise
    constants: dict[int, list[QualConstant]] = _merged([p[0] for p in parts], lambda q: (q.table, q.column, q.op,
                                                                                          q.value))
    shares: dict[int, list[QualShare]] = _merged([p[1] for p in parts], lambda q: (q.table, q.column, q.op))
    examples: dict[int, str] = {}
    unseen: dict[int, dict[Qual, int]] = {}
    rows: dict[int, dict[Qual, tuple[int, int]]] = {}
    for p in parts:
        for qid, text in p[2].items():
            examples.setdefault(qid, text)
        for qid, quals in p[3].items():
            mine = unseen.setdefault(qid, {})
            for qual, n in quals.items():
                mine[qual] = mine.get(qual, 0) + n
        for qid, read in p[4].items():
            theirs = rows.setdefault(qid, {})
            for qual, (evaluated, kept) in read.items():
                before = theirs.get(qual, (0, 0))
                theirs[qual] = (before[0] + evaluated, before[1] + kept)
    return {"constants": constants, "shares": shares, "examples": examples, "unseen": unseen, "unseen_rows": rows}


def _merged(reads: list[dict[int, list[Any]]], key: Any) -> dict[int, list[Any]]:
    """Per queryid, the servers' entries with the same ``key`` summed (occurrences, filtered, executions)."""
    out: dict[int, dict[Any, Any]] = {}
    for read in reads:
        for qid, items in read.items():
            mine = out.setdefault(qid, {})
            for item in items:
                k = key(item)
                if k not in mine:
                    mine[k] = item
                    continue
                sums = {f: getattr(mine[k], f) + getattr(item, f)
                        for f in ("occurrences", "filtered", "executions") if hasattr(item, f)}
                mine[k] = replace(mine[k], **sums)
    return {qid: list(items.values()) for qid, items in out.items()}     # the primary's order, then the replicas'



def other_paths(conn: psycopg.Connection[Any], catalog: Catalog, statements: list[Statement],
                role: str) -> tuple[list[Statement], list[str]]:
    """A given file's statements, less those with an unqualified name that a login role's own search_path finds
    in another table than pgtune's session does, and one line per such role (p14: an app role's ``lf, public``
    finds lf.traces, pgtune's ``"$user", public`` a legacy public.traces the application never reads, where both
    indexes went). Which table such a statement reads depends on the role that runs it, which the file does not
    say: advising it could index a table the application never reads, so it waits for --role."""
    names = sorted({n for st in statements for n in unqualified_relations(st.query)})
    if not names:
        return statements, []
    oids = [int(r[0]) for r in conn.execute(catalog_sql.load("login_search_paths")).fetchall()]
    found: list[tuple[str, str]] = []     # (role, where its search_path reads the names)
    elsewhere: set[str] = set()
    for r in sorted(read_roles(conn, oids, catalog.search_path, sessions=False).roles.values(), key=lambda r: r.name):
        moved = {n: f"{n}: {ddl.qualified(*theirs.key)}, not {ddl.qualified(*mine.key)}" for n in names
                 if (mine := catalog.lookup(None, n)) is not None
                 and (theirs := catalog.lookup(None, n, r.search_path)) is not None and theirs.key != mine.key}
        if moved:
            elsewhere |= moved.keys()
            found.append((r.name, f"role {r.name}'s search_path ({', '.join(r.search_path)}) reads "
                                  f"{'; '.join(moved.values())} (pgtune's session's)"))
    kept = [st for st in statements if not unqualified_relations(st.query) & elsewhere]
    if not kept:
        raise InputError(f"none of the {len(statements)} statements given is advised: "
                         + "; ".join(where for _, where in found)
                         + f": give --role {' or --role '.join(name for name, _ in found)} (or --role {role} "
                         "for pgtune's own search_path)")
    told = [f"{where}: the statements given that name {'it' if where.count(', not ') == 1 else 'them'} are "
            f"not advised without --role; if the application runs them as {name}, give --role {name}; as {role}, "
            f"give --role {role} (docs/roles.md)" for name, where in found]
    if told:
        told.append(f"{len(statements) - len(kept)} of {len(statements)} statements given were left out: "
                    "the table they read depends on the role that runs them")
    return kept, told


WINDOW_GAP = 10_000     # writes the counters hold beyond the statements' own before the difference is told


def found_schemas(roles: Roles, catalog: Catalog, statements: list[Statement]) -> list[str]:
    """A role whose statements name tables its search_path does not reach, each in one schema it may use only,
    the same one: that schema is added to its path (its sessions set it: Prisma's ?schema=, a SET whose value
    pg_stat_statements normalized away). One line per role says so; the rest stay 'references no known table'."""
    missing: dict[int, set[str]] = {}
    for st in statements:
        role = roles.roles.get(st.userid) if st.userid is not None else None
        if role is not None:
            missing.setdefault(role.oid, set()).update(
                n for n in unqualified_relations(st.query) if catalog.lookup(None, n, role.search_path) is None
                and catalog.lookup_view(None, n, role.search_path) is None and n not in catalog.temporary)
    told = []
    for oid, names in sorted(missing.items()):
        role = roles.roles[oid]
        held = [{s for s in role.usable if (s, n) in catalog.tables or (s, n) in catalog.views} for n in names]
        holders = [h for h in held if h]                  # a name in no schema: temporary, dropped, a catalog's
        if not holders or any(len(h) != 1 for h in holders) or len(set.union(*holders)) != 1:
            continue
        [schema] = holders[0]
        roles.roles[oid] = replace(role, search_path=(*role.search_path, schema), found_schema=schema)
        told.append(f"role {role.name}: its statements name {len(holders)} table(s) its search_path "
                    f"({', '.join(role.search_path) or 'empty'}) does not reach, each found in schema {schema} "
                    "only: resolved there (its sessions set search_path; pg_stat_statements keeps no value of it)")
    for role in roles.roles.values():
        if role.session_unread is not None and role.found_schema is None:
            told.append(f"role {role.name}: its sessions set search_path ({role.session_unread.strip()[:80]} in "
                        "pg_stat_statements, which kept no value): its unqualified names were resolved through "
                        f"its configured search_path ({', '.join(role.search_path) or 'empty'}) only")
        if role.session_set is not None and len(role.session_paths) < 2:
            told.append(f"role {role.name}: names resolved through the search_path its sessions set "
                        f"({role.session_set.strip()[:80]}, in pg_stat_statements), not its configured one")
    return told


def charge_window_writes(catalog: Catalog, roles: Roles, writes: list[WriteStatement], scale: float,
                         unseen: set[TableKey] | None = None) -> list[str]:
    """Cap each table's writes at what the workload's own statements wrote in pg_stat_statements' window.

    ``Table.writes x write_scale`` is what an index is charged; the counters
    behind it may hold a load or restore from before the window (the scale
    only guesses the window from pg_stat_statements_info, which a
    per-database reset leaves alone). Where the statements wrote fewer rows,
    the table's ``writes`` is lowered so that the charge is theirs. A
    partitioned table (its writes the sum over its partitions') is capped at
    the rows written through it and its partitions: uncapped, the window's
    share of a load grew with every minute the window aged, until the upkeep
    outgrew the saving and the same workload lost its index (u13: a 5M-row
    load before the window, the partitioned table's index charged 866,000,
    then 1,116,656, then withdrawn). Partitions keep their counters, and so
    does a table a user function names (``unseen``, capture.read_unseen_writers:
    a trigger's INSERT is no statement pg_stat_statements lists; r11, an audit
    table charged 0 rows and its index shown as free).
    Returns one line per table whose charge fell by more than WINDOW_GAP rows.
    """
    if scale <= 0:
        return []
    rows: dict[TableKey, int] = {}
    for w in writes:
        if w.queryid is not None and w.queryid in roles.unplaced:
            continue        # a schema per tenant's entry no path was told for: no tenant's table is charged it
        table = catalog.lookup(w.schema, w.table, roles.view(w.userid, w.queryid).search_path or None)
        if table is not None:
            rows[table.key] = rows.get(table.key, 0) + w.rows
    for key, n in list(rows.items()):       # a partition's rows count for every partitioned table above it
        for up in catalog.ancestors(key):
            rows[up] = rows.get(up, 0) + n
    # a partition named: a trigger may write the leaf or the partitioned table
    named = {k for key in unseen or () for k in (key, *catalog.ancestors(key))}
    told: list[tuple[float, str]] = []
    for key, table in list(catalog.tables.items()):
        counted = table.writes * scale
        own = rows.get(key, 0)
        if table.parent is not None or counted <= own or key in named:
            continue
        catalog.tables[key] = replace(table, writes=int(own / scale))
        if counted - own > WINDOW_GAP:
            told.append((counted - own, f"{ddl.qualified(*key)}: charged {own:,} written rows (the workload's "
                                        f"statements in pg_stat_statements' window), not the {counted:,.0f} its "
                                        "counters' writes since their reset give that window pro rata: a load or "
                                        "restore before it, or a superuser's left out beside the application's "
                                        "roles?"))
    return [t for _, t in sorted(told, reverse=True)[:3]]


def read_constants(conn: psycopg.Connection[Any]) -> dict[int, list[QualConstant]]:
    """pg_qualstats' constants per queryid (empty when the role may not read them)."""
    out: dict[int, list[QualConstant]] = {}
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.load("qualstats_constants"))
            rows = cur.fetchall()
    except psycopg.errors.InsufficientPrivilege:
        return {}
    for r in rows:
        out.setdefault(int(r["queryid"]), []).append(QualConstant(
            (r["schema"], r["table"]), r["column"], r["op"], r["constvalue"], int(r["occurrences"]),
            int(r["filtered"] or 0), int(r["executions"] or 0)))
    return out


def read_examples(conn: psycopg.Connection[Any], queryids: list[int]) -> dict[int, str]:
    """pg_qualstats' example text of each statement as the application sent it (empty when not readable)."""
    schema = catalog_sql.extension_schema(conn, "pg_qualstats")
    if schema is None or not queryids:
        return {}
    query = sql.SQL(catalog_sql.load("qualstats_examples")).format(
        examples=sql.Identifier(schema, "pg_qualstats_example_queries"))
    try:
        with conn.transaction():
            rows = conn.execute(query, {"queryids": queryids}).fetchall()
    except psycopg.Error:
        if lost(conn):
            raise
        return {}           # no privilege on the function: no example
    return {int(r[0]): str(r[1]) for r in rows if r[0] is not None and r[1] is not None}


def read_unseen(conn: psycopg.Connection[Any]) -> tuple[dict[int, dict[Qual, int]],
                                                        dict[int, dict[Qual, tuple[int, int]]]]:
    """Per queryid, the (table, column, op) pg_qualstats saw without a constant in some executions (a generic
    plan's $n), and in how many: their values are unknown (empty when not readable); and the rows those
    executions read and let through (analyze.coverage: as many per execution as with the constant, and it
    stands for them)."""
    out: dict[int, dict[Qual, int]] = {}
    rows_of: dict[int, dict[Qual, tuple[int, int]]] = {}
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(catalog_sql.load("qualstats_unseen")).fetchall()
    except psycopg.errors.InsufficientPrivilege:
        return {}, {}
    for r in rows:
        qual = ((r["schema"], r["table"]), r["column"], r["op"])
        out.setdefault(int(r["queryid"]), {})[qual] = int(r["occurrences"] or 0)
        rows_of.setdefault(int(r["queryid"]), {})[qual] = (int(r["executions"] or 0), int(r["kept"] or 0))
    return out, rows_of


def read_shares(conn: psycopg.Connection[Any]) -> dict[int, list[QualShare]]:
    """pg_qualstats' quals without a constant, per queryid, with the rows they kept (empty when not readable)."""
    out: dict[int, list[QualShare]] = {}
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_sql.load("qualstats_shares"))
            rows = cur.fetchall()
    except psycopg.errors.InsufficientPrivilege:
        return {}
    for r in rows:
        out.setdefault(int(r["queryid"]), []).append(QualShare(
            (r["schema"], r["table"]), r["column"], r["op"], int(r["executions"] or 0), int(r["filtered"] or 0)))
    return out
