"""The health checks: each reads the catalog (SQL under sql/) and returns its findings.

Every check has a kebab-case id, a severity and a page in docs/checks/. Fixes
are statements built with psycopg.sql (names as identifiers), never pasted
text: an index is dropped or rebuilt CONCURRENTLY, a constraint VALIDATEd.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from .. import catalog_sql, ddl
from ..analyze import FK_PREFIX_ROWS, Candidate, serves_foreign_key, sizing
from ..capture import Catalog, ForeignKey, Table, read_catalog
from ..connect import lost
from . import fk_partial, key_use, partitions
from .duplicate_keys import drop_offer, read_keys
from .model import CheckId, Finding, Severity
from .partitions import attached

# (schema, table) -> the names of the indexes the application's schema declares on that table.
Declared = Callable[[str, str], Collection[str]]

SEQUENCE_WARNING = 0.75        # share of its range a sequence may use before a warning…
SEQUENCE_ERROR = 0.90          # …and before an error
STALE_SHARE, STALE_ROWS = 0.2, 1000   # stale-statistics: changed rows beyond 20% of the table plus 1,000
BLOAT_RATIO, BLOAT_BYTES = 2.0, 1 << 20   # bloated-index: over twice its forecast, and 1 MB more
FREEZE_LAG = 1.5               # xid-wraparound-risk: a table this far past its freeze age (autovacuum is behind)
WRAPAROUND_ERROR = 1_200_000_000   # …and an error from this age on (the server stops at about 2.1 billion)


@dataclass(frozen=True)
class Context:
    """What a check reads: the database, its replicas (usage counters), and how old statistics must be."""

    conn: psycopg.Connection[Any]
    replicas: tuple[psycopg.Connection[Any], ...] = ()
    min_stats_age_s: float = 7 * 86_400
    notes: list[str] = field(default_factory=list)    # a check that could not run says why here
    min_rows: float = 1000                               # foreign-key-without-index: smaller tables are left out
    read: dict[str, Any] = field(default_factory=dict)   # catalog reads shared by the checks of one run
    declared: Declared | None = None     # the index names the application's ORM schema declares (--prisma-schema)

    def rows(self, name: str) -> list[dict[str, Any]]:
        """The rows of sql/<name>.sql on the primary, read once per run."""
        if name not in self.read:
            self.read[name] = catalog_rows(self.conn, name)
        return list(self.read[name])

    def tree(self) -> partitions.Tree:
        """The indexes with their partitioned parents and attached children (sql/health_indexes.sql)."""
        if "tree" not in self.read:
            self.read["tree"] = partitions.Tree.of(self.rows("health_indexes"))
        tree: partitions.Tree = self.read["tree"]
        return tree

    def catalog(self) -> Catalog:
        if "catalog" not in self.read:
            self.read["catalog"] = read_catalog(self.conn)
        catalog: Catalog = self.read["catalog"]
        return catalog


@dataclass(frozen=True)
class Check:
    id: CheckId
    severity: Severity
    summary: str
    run: Callable[[Context], list[Finding]]


def catalog_rows(conn: psycopg.Connection[Any], name: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(catalog_sql.load(name))
        return cur.fetchall()


def _text(conn: psycopg.Connection[Any], stmt: sql.Composable) -> str:
    return stmt.as_string(conn)


def drop_statement(conn: psycopg.Connection[Any], schema: str, index: str, partitioned: bool = False) -> str:
    """DROP INDEX CONCURRENTLY; a partitioned index without it (PostgreSQL refuses it there; the drop of the
    parent drops its attached children, catalog work under the migration's lock_timeout)."""
    how = "DROP INDEX IF EXISTS {}" if partitioned else "DROP INDEX CONCURRENTLY IF EXISTS {}"
    return _text(conn, sql.SQL(how).format(sql.Identifier(schema, index)))


def reindex_statement(conn: psycopg.Connection[Any], schema: str, index: str) -> str:
    return _text(conn, sql.SQL("REINDEX INDEX CONCURRENTLY {}").format(sql.Identifier(schema, index)))


def invalid_index(ctx: Context) -> list[Finding]:
    conn = ctx.conn
    out = []
    for r in ctx.rows("health_indexes"):
        if r["is_valid"] or attached(r):
            continue          # an attached child is judged with its parent
        if r["partitioned"]:
            out.append(partitions.invalid(ctx.tree(), ctx.catalog(), r,
                                          drop_statement(conn, r["schema"], r["index"], partitioned=True)))
            continue
        # Drop and build again under the same definition: a REINDEX CONCURRENTLY that fails again
        # (duplicate keys under a unique index) would leave a second INVALID index, <name>_ccnew.
        keys = read_keys(conn, r) if r["is_unique"] else None     # carried to --emit: the table is read once
        note, offer = drop_offer(keys, r, ctx.declared(r["schema"], r["table"]) if ctx.declared else None) \
            if keys is not None else ("", False)
        # A build that failed before it was marked ready (duplicate keys) is not maintained by writes (v37).
        cost = ("writes maintain it, " if r["is_ready"]
                else "writes do not maintain it (its build stopped before it was ready), ")
        out.append(Finding(
            CheckId.INVALID_INDEX, Severity.ERROR, r["schema"], r["table"], r["index"],
            f"index {r['index']} is INVALID (a failed or interrupted build): {cost}no query uses it{note}",
            {"definition": r["definition"], "index_bytes": r["index_bytes"], "unique": r["is_unique"],
             "ready": r["is_ready"], **({"or_drop": drop_statement(conn, r["schema"], r["index"])} if offer else {})},
            [drop_statement(conn, r["schema"], r["index"]), ddl.recreate_index(r["definition"])], keys=keys))
    return out


def _keys(r: dict[str, Any]) -> list[tuple[Any, ...]]:
    n = r["key_count"]
    return list(zip(r["attnums"][:n], r["opclasses"][:n], r["collations"][:n], r["options"][:n], strict=True))


def overlapping_index(ctx: Context) -> list[Finding]:
    """A btree whose keys lead another btree's on the same rows (same predicate): the wider one serves it."""
    conn = ctx.conn
    by_table: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in ctx.rows("health_indexes"):
        if r["is_valid"] and r["method"] == "btree" and not r["expressions"]:
            by_table.setdefault((r["schema"], r["table"]), []).append(r)
    out = []
    for narrow in (r for rows in by_table.values() for r in rows):
        if narrow["is_protected"] or narrow["is_unique"] or attached(narrow):
            continue          # an attached child goes with its parent, which is judged on the parent table
        included = set(narrow["attnums"][narrow["key_count"]:])
        for wide in by_table[(narrow["schema"], narrow["table"])]:
            if wide is narrow:
                continue
            nk, wk = _keys(narrow), _keys(wide)
            if wide["predicate"] != narrow["predicate"] or len(wk) <= len(nk) or wk[:len(nk)] != nk:
                continue
            if not included <= set(wide["attnums"]):
                continue     # the narrow one covers columns the wide one does not hold
            out.append(Finding(
                CheckId.OVERLAPPING_INDEX, Severity.WARNING, narrow["schema"], narrow["table"], narrow["index"],
                f"{partitions.kind(narrow)} {narrow['index']} is a leading part of {wide['index']}, which serves "
                "the same lookups",
                {"covered_by": wide["index"], "definition": narrow["definition"],
                 "covered_by_definition": wide["definition"], "index_bytes": ctx.tree().size(narrow),
                 **ctx.tree().evidence(narrow)},
                [drop_statement(conn, narrow["schema"], narrow["index"], narrow["partitioned"])]))
            break
    return out


def foreign_key_without_index(ctx: Context) -> list[Finding]:
    """Every foreign key no valid btree leads with: deletes and key updates on the parent scan the child.

    Once per foreign key (a partition's copy and the per-partition clones of a key into a partitioned table are
    not read: sql/foreign_keys.sql), and only on tables of at least ``min_rows`` rows: a delete that scans 20 rows
    costs nothing. On a partitioned table the fix is the non-blocking recipe: ON ONLY the table, CONCURRENTLY on
    each partition, ATTACH each.
    """
    catalog = ctx.catalog()
    suffix = catalog.index_suffix
    out = []
    small = 0
    by_part: list[str] = []
    use: key_use.KeyUse | str | None = None      # read once, for the first key without an index
    for fk in catalog.foreign_keys:
        keys = tuple(ddl.IndexKey(c) for c in fk.columns)
        cand = Candidate(fk.table_key, keys, len(keys), foreign_key=fk)
        existing = catalog.indexes_on(fk.table_key)
        if any(fk_partial.serves(i, cand, fk) for i in existing):     # m10: WHERE key IS NOT NULL too
            continue
        part = next((i for i in existing if serves_foreign_key(i, fk, catalog)), None)
        if part is not None:
            by_part.append(f"{fk.name} by {part.name}")
            continue
        table = catalog.tables.get(fk.table_key)
        if table is not None and _rows_at_most(table) < ctx.min_rows:
            small += 1
            continue
        if use is None:
            use = key_use.read(ctx.conn, catalog)
            if isinstance(use, str):
                ctx.notes.append(f"foreign-key-without-index: whether the parents see deletes and the workload "
                                 f"reads by the keys is unknown ({use}): every key without an index is reported")
        idle = use.idle(fk, catalog, ctx.min_stats_age_s) if not isinstance(use, str) else None
        partitioned = table is not None and table.partitioned
        if idle is not None:
            out.append(Finding(
                CheckId.FOREIGN_KEY_WITHOUT_INDEX, Severity.INFO, fk.schema, fk.table, None,
                f"foreign key {fk.name} ({', '.join(fk.columns)}) to {fk.ref_table} has no index, and needs none "
                f"now: {idle}",
                {**_fk_evidence(fk, table, None), "idle": idle}, []))
            continue
        name = catalog.free_name(fk.schema, ddl.index_name(fk.table, keys, suffix), _namer(fk.table, keys, suffix))
        build, partial = fk_partial.build(catalog, fk, name, keys)   # mostly NULL: WHERE key IS NOT NULL
        if partitioned:
            def name_for(schema: str, part: str, keys: tuple[ddl.IndexKey, ...] = keys) -> str:
                return catalog.free_name(schema, ddl.index_name(part, keys, suffix), _namer(part, keys, suffix))
            fix = partitions.build_under(catalog, build, fk.schema, fk.table, name, name_for)
        out.append(Finding(
            CheckId.FOREIGN_KEY_WITHOUT_INDEX, Severity.WARNING, fk.schema, fk.table, None,
            f"foreign key {fk.name} ({', '.join(fk.columns)}) to {fk.ref_table} has no index: every delete "
            f"on {fk.ref_table} scans {fk.table}" + (" (all its partitions)" if partitioned else "") +
            fk_partial.note(partial), {**_fk_evidence(fk, table, name), **partial}, fix if partitioned else [build]))
    _fk_notes(ctx, by_part, small)
    return out


MIN_ROW_BYTES = 28      # the least a heap row takes: a 24-byte tuple header and a 4-byte line pointer


def _rows_at_most(table: Table) -> float:
    """reltuples, or where never analyzed (-1: an empty table never reaches the analyze threshold) the most
    its size holds: u11's migrated Trigger.dev DB had 81 such empty tables, each FK given an index to build."""
    if table.reltuples >= 0:
        return table.reltuples
    return table.size_bytes / MIN_ROW_BYTES


def _fk_evidence(fk: ForeignKey, table: Table | None, index: str | None) -> dict[str, Any]:
    """The evidence of a foreign-key-without-index finding (docs/health-json.md)."""
    return {"constraint": fk.name, "columns": list(fk.columns), "references": f"{fk.ref_schema}.{fk.ref_table}",
            "on_delete": fk.on_delete, "index": index, "rows": table.reltuples if table else None,
            **({"partitioned": True} if table is not None and table.partitioned else {})}


def _fk_notes(ctx: Context, by_part: list[str], small: int) -> None:
    if by_part:
        ctx.notes.append(f"foreign-key-without-index: served by an index on their leading column(s), at most "
                         f"{FK_PREFIX_ROWS} rows per value: {', '.join(by_part)}")
    if small:
        ctx.notes.append(f"foreign-key-without-index: {small} foreign key(s) on tables under --min-rows "
                         f"({ctx.min_rows:,.0f} rows) left out: a delete that scans so few rows costs nothing")


def foreign_key_indexes(catalog: Catalog) -> set[tuple[str, str]]:
    """(schema, index) of one index per foreign key that its checks can use: never to be dropped as unused.

    Its scans do not show in idx_scan when the parent rarely deletes, yet
    dropping it makes every such delete scan the child table. Where several
    serve, one is kept (all the key's columns first, then the narrowest, then
    by name) and the others may go.
    """
    out: set[tuple[str, str]] = set()
    for fk in catalog.foreign_keys:
        keys = tuple(ddl.IndexKey(c) for c in fk.columns)
        cand = Candidate(fk.table_key, keys, len(keys), foreign_key=fk)
        serving = [i for i in catalog.indexes_on(fk.table_key) if serves_foreign_key(i, fk, catalog)]
        if serving:
            keep = min(serving, key=lambda i: (not fk_partial.serves(i, cand, fk), len(i.columns), i.name))
            out.add((keep.schema, keep.name))
    return out


def _namer(table: str, keys: tuple[ddl.IndexKey, ...], suffix: str = "idx") -> Callable[[int], str]:
    return lambda n: ddl.index_name(table, keys, f"{suffix}{n}")


def not_valid_constraint(ctx: Context) -> list[Finding]:
    conn = ctx.conn
    out = []
    for r in ctx.rows("health_not_valid_constraints"):
        kind = {"c": "CHECK", "n": "NOT NULL"}.get(r["kind"], "foreign key")
        out.append(Finding(
            CheckId.NOT_VALID_CONSTRAINT, Severity.WARNING, r["schema"], r["table"], None,
            f"{kind} constraint {r['name']} is NOT VALID: existing rows were never checked",
            {"constraint": r["name"], "definition": r["definition"]},
            [_text(conn, sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(
                sql.Identifier(r["schema"], r["table"]), sql.Identifier(r["name"])))]))
    return out


def sequence_near_overflow(ctx: Context) -> list[Finding]:
    out = []
    for r in ctx.rows("health_sequences"):
        if r["last_value"] is None or not r["max_value"]:
            continue
        used = int(r["last_value"]) / int(r["max_value"])
        if used < SEQUENCE_WARNING:
            continue
        feeds = f" (feeds {r['table']}.{r['column']})" if r["column"] else ""
        out.append(Finding(
            CheckId.SEQUENCE_NEAR_OVERFLOW, Severity.ERROR if used >= SEQUENCE_ERROR else Severity.WARNING,
            r["schema"], r["table"], None,
            f"sequence {r['sequence']}{feeds} has used {used:.0%} of its range ({int(r['max_value']):,})",
            {"sequence": r["sequence"], "last_value": int(r["last_value"]), "max_value": int(r["max_value"]),
             "data_type": r["data_type"], "column": r["column"]},
            []))   # widening a column to bigint rewrites the table: a planned change, not a script
    return out


def xid_wraparound_risk(ctx: Context) -> list[Finding]:
    """Tables whose oldest unfrozen row is far past the age at which autovacuum should have frozen it."""
    out = []
    for r in ctx.rows("health_freeze_age"):
        age, limit = int(r["age"]), int(r["freeze_max_age"])
        if age <= FREEZE_LAG * limit and age < WRAPAROUND_ERROR:
            continue
        out.append(Finding(
            CheckId.XID_WRAPAROUND_RISK, Severity.ERROR if age >= WRAPAROUND_ERROR else Severity.WARNING,
            r["schema"], r["table"], None,
            f"{r['table']} has rows {age:,} transactions old, past autovacuum_freeze_max_age ({limit:,}): "
            "autovacuum is not keeping up, and at about 2.1 billion the server stops accepting writes",
            {"age": age, "freeze_max_age": limit, "database_age": int(r["database_age"] or 0)},
            [_text(ctx.conn, sql.SQL("VACUUM (FREEZE) {}").format(sql.Identifier(r["schema"], r["table"])))]))
    return out


def _free_space(conn: psycopg.Connection[Any], schema: str, oid: int) -> tuple[int, int] | None:
    """(free + dead bytes, table bytes) from pgstattuple_approx, read only and bounded; None if it fails."""
    query = sql.SQL("SELECT /* pgtune */ (approx_free_space + dead_tuple_len)::int8, table_len::int8 "
                    "FROM {}(%s::oid::regclass)").format(sql.Identifier(schema, "pgstattuple_approx"))
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("SET /* pgtune */ TRANSACTION READ ONLY")
            conn.execute("SET /* pgtune */ LOCAL statement_timeout = '10s'")
            got = conn.execute(query, (oid,)).fetchone()
    except psycopg.Error:
        if lost(conn):
            raise
        return None
    return (int(got[0]), int(got[1])) if got else None


def bloated_table(ctx: Context) -> list[Finding]:
    """A heap more than twice what its rows need: measured by pgstattuple_approx when installed, else estimated.

    The estimate: rows (reltuples) x (tuple header, null bitmap, the columns'
    pg_stats.avg_width, line pointer), pages filled to the fillfactor.
    """
    out = []
    for r in ctx.rows("health_table_sizes"):
        real = int(r["table_bytes"])
        if real < BLOAT_BYTES:
            continue
        schema = r["pgstattuple_schema"]
        measured = _free_space(ctx.conn, schema, int(r["oid"])) if schema else None
        if measured is not None:
            wasted, method = measured[0], "pgstattuple_approx"
        elif r["row_width"] is not None:
            needed = sizing.heap_forecast(float(r["rows"]), float(r["row_width"]), int(r["columns"]),
                                          int(r["fillfactor"]))
            wasted, method = real - needed, "statistics"
        else:
            continue          # never analyzed: stale-statistics says so
        if wasted < BLOAT_BYTES or wasted * BLOAT_RATIO < real:
            continue
        out.append(Finding(
            CheckId.BLOATED_TABLE, Severity.WARNING, r["schema"], r["table"], None,
            f"{r['table']} takes {real / 1048576:,.1f} MB of which about {wasted / 1048576:,.1f} MB is free or "
            f"dead space ({method})",
            {"table_bytes": real, "wasted_bytes": wasted, "method": method},
            []))   # VACUUM FULL locks the table for its whole rewrite: an online rewrite needs pg_repack
    return out


def bloated_index(ctx: Context) -> list[Finding]:
    """A btree more than twice the size a fresh build would have (pgtune's size forecast from pg_stats).

    No extension needed: the forecast is the one ``suggest`` uses, within 1.25x of built indexes on TPC-H.
    Partial indexes (their row count is not in the statistics) and tables never analyzed are left out.
    """
    catalog = ctx.catalog()
    out = []
    for ix in catalog.indexes:
        table = catalog.tables.get(ix.table_key)
        if (ix.method != "btree" or not ix.is_valid or ix.predicate is not None or table is None
                or table.reltuples < 0 or ix.size_bytes < BLOAT_BYTES):
            continue
        keys = tuple(ddl.IndexKey(c) if c is not None else ddl.IndexKey("", expression=d)
                     for c, d in zip(ix.columns, ix.key_defs or ix.columns, strict=False))
        expected = sizing.forecast(catalog, ix.table_key, keys, include=ix.include, unique=ix.is_unique)
        if ix.size_bytes <= BLOAT_RATIO * expected or ix.size_bytes - expected < BLOAT_BYTES:
            continue
        out.append(Finding(
            CheckId.BLOATED_INDEX, Severity.WARNING, ix.schema, ix.table, ix.name,
            f"index {ix.name} takes {ix.size_bytes / 1048576:,.1f} MB where a fresh build would take about "
            f"{expected / 1048576:,.1f} MB ({ix.size_bytes / expected:.1f}x)",
            {"index_bytes": ix.size_bytes, "forecast_bytes": expected, "rows": table.reltuples,
             "definition": ix.definition},
            [reindex_statement(ctx.conn, ix.schema, ix.name)]))
    return out


def stale_statistics(ctx: Context) -> list[Finding]:
    """Rows changed since the last ANALYZE beyond twice what makes autovacuum analyze (10% + 50 rows)."""
    out = []
    for r in ctx.rows("health_table_changes"):
        changed, rows = int(r["changed"] or 0), float(r["rows"] or 0)
        if changed <= STALE_SHARE * rows + STALE_ROWS:
            continue
        when = f"last analyzed {r['analyzed']:%Y-%m-%d %H:%M}" if r["analyzed"] else "never analyzed"
        out.append(Finding(
            CheckId.STALE_STATISTICS, Severity.WARNING, r["schema"], r["table"], None,
            f"{changed:,} rows of {r['table']} changed since its statistics were gathered ({when}): "
            "the planner estimates from the old data",
            {"changed_rows": changed, "rows": rows, "analyzed": str(r["analyzed"]) if r["analyzed"] else None},
            [ddl.analyze(r["schema"], r["table"])]))
    return out


def _window(conn: psycopg.Connection[Any]) -> tuple[Any, float]:
    row = catalog_rows(conn, "health_stats_window")[0]
    return row["since"], float(row["seconds"])


def _age(seconds: float) -> str:
    return f"{seconds / 86_400:.1f} days" if seconds >= 86_400 else f"{seconds / 3600:.1f} hours"


def unused_index(ctx: Context) -> list[Finding]:
    """No scan since the statistics were reset, on the primary or any replica given.

    Only when every server's statistics have counted for --min-stats-age; an
    index that enforces something (primary key, unique, exclusion, a
    constraint, the replica identity) is never reported.
    """
    servers = [ctx.conn, *ctx.replicas]
    windows = [_window(c) for c in servers]
    youngest = min(seconds for _, seconds in windows)
    if youngest < ctx.min_stats_age_s:
        ctx.notes.append(f"unused-index not run: index statistics have counted for {_age(youngest)} only "
                         f"(since {min(windows, key=lambda w: w[1])[0]}); --min-stats-age is "
                         f"{_age(ctx.min_stats_age_s)}")
        return []
    usage = {(r["schema"], r["index"]): r for r in catalog_rows(ctx.conn, "health_index_usage")}
    scans = {key: int(r["idx_scan"] or 0) for key, r in usage.items()}
    for c in ctx.replicas:
        for r in catalog_rows(c, "health_index_usage"):
            key = (r["schema"], r["index"])
            scans[key] = scans.get(key, 0) + int(r["idx_scan"] or 0)
    needed = foreign_key_indexes(ctx.catalog())
    ages = _index_ages(ctx.conn)
    out = []
    young: list[str] = []
    for r in ctx.rows("health_indexes"):
        key = (r["schema"], r["index"])
        if r["is_protected"] or r["is_unique"] or not r["is_valid"] or attached(r):
            continue          # an attached child is judged with its parent: its scans count for the parent
        leaves = [(leaf["schema"], leaf["index"]) for leaf in ctx.tree().leaves(key) if
                  (leaf["schema"], leaf["index"]) in usage]
        if not leaves or any(scans.get(k, 0) for k in leaves):
            continue
        if key in needed:
            continue          # unscanned, but the only index a foreign key's checks can use
        age = ages.get(key) if ages is not None else None
        if age is not None and age < ctx.min_stats_age_s:
            young.append(f"{r['index']} ({_age(age)})")
            continue          # built inside the window: it has not had the window to be used
        size = sum(int(usage[k]["index_bytes"]) for k in leaves)
        writes = sum(int(usage[k]["writes"]) for k in leaves)
        out.append(Finding(
            CheckId.UNUSED_INDEX, Severity.WARNING, r["schema"], r["table"], r["index"],
            f"{partitions.kind(r)} {r['index']} ({size / 1048576:,.1f} MB) had no scan in {_age(youngest)} "
            f"on {len(servers)} server{'s' if len(servers) > 1 else ''}, while its table took "
            f"{writes:,} writes",
            {"index_bytes": size, "writes": writes, "servers": len(servers),
             "stats_seconds": youngest, "definition": r["definition"], **ctx.tree().evidence(r)},
            [drop_statement(ctx.conn, r["schema"], r["index"], r["partitioned"])]))
    # The biggest and most written first: what dropping saves.
    out.sort(key=lambda f: (-f.evidence["index_bytes"], -f.evidence["writes"]))
    if young:
        ctx.notes.append(f"unused-index: not judged, created less than --min-stats-age ago: {', '.join(young)}")
    elif ages is None and out:
        ctx.notes.append("unused-index: index creation times are unknown (track_commit_timestamp is off): "
                         "an index built during the statistics window is judged on the scans since it was built")
    return out


def _index_ages(conn: psycopg.Connection[Any]) -> dict[tuple[str, str], float] | None:
    """Seconds since each index was created (its pg_class row committed); None when the server cannot tell."""
    row = conn.execute("SELECT /* pgtune */ current_setting('track_commit_timestamp')").fetchone()
    if not row or row[0] != "on":
        return None
    return {(r["schema"], r["index"]): float(r["seconds"]) for r in catalog_rows(conn, "health_index_age")
            if r["seconds"] is not None}

