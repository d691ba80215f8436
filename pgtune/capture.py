"""Capture: the workload (pg_stat_statements) and a catalog snapshot, as plain data.

Everything downstream (analyze, plan, verify) works on these dataclasses, so
the analysis can be tested and re-run without touching the server again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from . import catalog_sql
from .connect import lost
from .errors import InputError

TableKey = tuple[str, str]  # (schema, table)


def distinct_count(n_distinct: float, reltuples: float) -> float:
    """Distinct values from pg_stats.n_distinct: a negative value is a fraction of the rows."""
    return n_distinct if n_distinct >= 0 else -n_distinct * max(reltuples, 0.0)


@dataclass(frozen=True)
class Statement:
    """One normalized statement as pg_stat_statements aggregates it."""

    query: str
    queryid: int | None = None
    calls: int = 1
    total_ms: float = 0.0
    mean_ms: float = 0.0
    rows: int = 0
    userid: int | None = None      # the role that ran it (pg_stat_statements.userid); None: unknown


class TableKind(StrEnum):
    """pg_class.relkind of a relation pgtune may index."""

    TABLE = "r"
    PARTITIONED = "p"            # holds no rows: its partitions do
    MATERIALIZED_VIEW = "m"


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[str, ...]
    column_types: tuple[str, ...] = ()
    reltuples: float = 0.0   # a partitioned table: the sum over its leaf partitions
    size_bytes: int = 0
    writes: int = 0      # inserts + non-HOT updates: each one maintains every index
    deletes: int = 0
    kind: TableKind = TableKind.TABLE
    parent: TableKey | None = None               # a partition: the partitioned table it belongs to
    partitions: tuple[TableKey, ...] = ()        # a partitioned table: its direct partitions

    @property
    def partitioned(self) -> bool:
        return self.kind == TableKind.PARTITIONED

    def column_type(self, column: str) -> str:
        try:
            return self.column_types[self.columns.index(column)]
        except (ValueError, IndexError):
            return ""

    @property
    def key(self) -> TableKey:
        return (self.schema, self.name)


@dataclass(frozen=True)
class Index:
    schema: str
    table: str
    name: str
    columns: tuple[str | None, ...]  # key columns in order; None where an expression stands
    descending: tuple[bool, ...] = ()
    key_defs: tuple[str, ...] = ()   # each key's text (column name or expression)
    include: tuple[str, ...] = ()    # INCLUDE columns
    method: str = "btree"
    is_unique: bool = False
    is_primary: bool = False
    is_valid: bool = True
    predicate: str | None = None
    definition: str = ""
    size_bytes: int = 0

    @property
    def table_key(self) -> TableKey:
        return (self.schema, self.table)


@dataclass(frozen=True)
class ForeignKey:
    schema: str
    table: str
    name: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    on_delete: str = "a"  # pg_constraint.confdeltype: a, r, c, n, d

    @property
    def table_key(self) -> TableKey:
        return (self.schema, self.table)


@dataclass(frozen=True)
class ColumnStats:
    n_distinct: float
    null_frac: float
    most_common_vals: tuple[str, ...] = ()
    most_common_freqs: tuple[float, ...] = ()
    histogram_bounds: tuple[str, ...] = ()      # equal-frequency bounds of the values that are not common


@dataclass(frozen=True)
class ColumnInfo:
    """One column as the catalog and pg_stats describe it (None: no statistics yet)."""

    schema: str
    table: str
    name: str
    type: str
    category: str               # pg_type.typcategory
    not_null: bool
    reltuples: float
    table_bytes: int
    n_distinct: float | None
    null_frac: float | None
    avg_width: int | None = None
    most_common_vals: tuple[str, ...] = ()
    most_common_freqs: tuple[float, ...] = ()
    histogram_bounds: tuple[str, ...] = ()
    correlation: float | None = None    # physical order vs value order (1: stored sorted)
    default: str | None = None          # the column's DEFAULT expression (pg_get_expr), None: no default
    stats_from: str | None = None       # a partitioned table without inherited statistics: the leaf they are from


@dataclass
class Catalog:
    """The parts of the catalog that index advice depends on."""

    tables: dict[TableKey, Table] = field(default_factory=dict)
    indexes: list[Index] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    column_stats: dict[tuple[str, str, str], ColumnStats] = field(default_factory=dict)
    search_path: tuple[str, ...] = ("public",)
    relation_names: set[tuple[str, str]] = field(default_factory=set)   # every (schema, relname) taken
    columns: list[ColumnInfo] = field(default_factory=list)
    views: dict[TableKey, str] = field(default_factory=dict)   # (schema, view) -> its definition
    temporary: set[str] = field(default_factory=set)    # names of temporary tables (now, or the workload's)
    _by_table: dict[TableKey, dict[str, ColumnInfo]] = field(default_factory=dict, repr=False, compare=False)
    _columns_seen: int = field(default=-1, repr=False, compare=False)
    _indexes_by_table: dict[TableKey, list[Index]] = field(default_factory=dict, repr=False, compare=False)
    _indexes_seen: int = field(default=-1, repr=False, compare=False)

    def table_columns(self, key: TableKey) -> dict[str, ColumnInfo]:
        """A table's columns by name (indexed on first use, again if columns were added since)."""
        if self._columns_seen != len(self.columns):
            self._by_table = {}
            for c in self.columns:
                self._by_table.setdefault((c.schema, c.table), {})[c.name] = c
            self._columns_seen = len(self.columns)
        return self._by_table.get(key, {})

    def free_name(self, schema: str, name: str, make: Callable[[int], str]) -> str:
        """``name`` if no relation in ``schema`` holds it, else ``make(2)``, ``make(3)``…: the first free one."""
        n = 1
        while (schema, name) in self.relation_names:
            n += 1
            name = make(n)
        return name

    def indexes_on(self, key: TableKey) -> list[Index]:
        """A table's indexes (grouped on first use, again if indexes were added since)."""
        if self._indexes_seen != len(self.indexes):
            self._indexes_by_table = {}
            for i in self.indexes:
                self._indexes_by_table.setdefault(i.table_key, []).append(i)
            self._indexes_seen = len(self.indexes)
        return list(self._indexes_by_table.get(key, ()))

    def leaf_partitions(self, key: TableKey) -> list[TableKey]:
        """The partitions of ``key`` that hold rows (sub-partitions followed down), or ``[key]`` itself."""
        table = self.tables.get(key)
        if table is None or not table.partitioned:
            return [key]
        return [leaf for child in table.partitions for leaf in self.leaf_partitions(child)]

    def partition_root(self, key: TableKey) -> TableKey:
        """The topmost partitioned table ``key`` belongs to (``key`` itself when it is no partition)."""
        table = self.tables.get(key)
        while table is not None and table.parent is not None and table.parent in self.tables:
            key = table.parent
            table = self.tables[key]
        return key

    def lookup(self, schema: str | None, name: str, search_path: tuple[str, ...] | None = None) -> Table | None:
        """Resolve a table reference the way the server would, through ``search_path`` (default: pgtune's)."""
        if schema is not None:
            return self.tables.get((schema, name))
        for s in self.search_path if search_path is None else search_path:
            t = self.tables.get((s, name))
            if t is not None:
                return t
        return None

    def is_temporary(self, schema: str | None, name: str) -> bool:
        """Does a reference that resolves to no permanent table name a temporary one?

        ``pg_temp.x`` always does; an unqualified name does when a temporary
        table of that name exists or the workload creates one. (A temporary
        table shadowing a permanent one of the same name is not told apart.)
        """
        if schema is not None:
            return schema == "pg_temp" or schema.startswith("pg_temp_")
        return name in self.temporary

    def lookup_view(self, schema: str | None, name: str, search_path: tuple[str, ...] | None = None) -> str | None:
        """A view's definition, resolved through search_path like a table."""
        if schema is not None:
            return self.views.get((schema, name))
        for s in self.search_path if search_path is None else search_path:
            if (s, name) in self.views:
                return self.views[(s, name)]
        return None

    def value_frequency(self, key: TableKey, column: str, value: str) -> float | None:
        """Fraction of rows where ``column`` equals ``value`` (its text form), from pg_stats.

        A most-common value has its own frequency; any other value shares what
        the common values and NULLs leave. None when there are no statistics.
        """
        st = self.column_stats.get((key[0], key[1], column))
        if st is None:
            return None
        if value in st.most_common_vals:
            return st.most_common_freqs[st.most_common_vals.index(value)]
        rest = max(1.0 - sum(st.most_common_freqs) - st.null_frac, 0.0)
        others = self.distinct_values(key, column) - len(st.most_common_vals)
        return rest / others if others >= 1 else rest

    def distinct_values(self, key: TableKey, column: str) -> float:
        """Estimated number of distinct values (pg_stats' negative n_distinct is a fraction of rows)."""
        st = self.column_stats.get((key[0], key[1], column))
        if st is None:
            return 0.0
        table = self.tables.get(key)
        return distinct_count(st.n_distinct, table.reltuples if table else 0.0)


@dataclass(frozen=True)
class WorkloadFilter:
    """Which pg_stat_statements rows count as the workload."""

    top: int = 50
    min_calls: int = 1
    min_mean_ms: float = 0.0
    min_total_ms: float = 0.0
    database: str | None = None     # None: the connected database


def read_workload(conn: psycopg.Connection[Any], filt: WorkloadFilter | None = None) -> list[Statement]:
    f = filt or WorkloadFilter()
    if f.database is not None:
        found = conn.execute("SELECT /* pgtune */ count(*) FROM pg_catalog.pg_database WHERE datname = %s",
                             (f.database,)).fetchone()
        if found != (1,):
            raise InputError(f"--database {f.database!r}: no such database on this server")
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(catalog_sql.load("workload_statements"),
                    {"limit": f.top, "min_calls": f.min_calls, "min_mean_ms": f.min_mean_ms,
                     "min_total_ms": f.min_total_ms, "database": f.database})
        return [
            Statement(query=r["query"], queryid=r["queryid"], calls=r["calls"],
                      total_ms=r["total_ms"], mean_ms=r["mean_ms"], rows=r["rows"], userid=int(r["userid"]))
            for r in cur.fetchall()
        ]


def read_temporary_names(conn: psycopg.Connection[Any], database: str | None = None,
                         texts: list[str] | None = None) -> set[str]:
    """Temporary tables: those that exist now, and those the workload creates.

    The workload is ``texts`` (a --queries file) or, when None, pg_stat_statements.
    """
    names = {r[0] for r in conn.execute(catalog_sql.load("temporary_tables"))}
    if texts is None:
        texts = [r[0] for r in conn.execute(catalog_sql.load("workload_temporary_tables"), {"database": database})
                 if r[0] is not None]
    return names | temporary_names(texts)


def temporary_names(texts: list[str]) -> set[str]:
    """The tables these statements create as temporary (CREATE TEMP TABLE, … AS, SELECT … INTO TEMP)."""
    from pglast import ast, parse_sql
    from pglast.parser import ParseError

    out: set[str] = set()
    for text in texts:
        if "temp" not in text.lower():
            continue
        try:
            stmts = parse_sql(text)
        except ParseError:
            continue
        for raw in stmts:
            node = raw.stmt
            target = None
            if isinstance(node, ast.CreateStmt):
                target = node.relation
            elif isinstance(node, ast.CreateTableAsStmt) and node.into is not None:
                target = node.into.rel
            elif isinstance(node, ast.SelectStmt) and node.intoClause is not None:
                target = node.intoClause.rel
            if target is not None and target.relpersistence == "t" and target.relname:
                out.add(target.relname)
    return out


def merge_workloads(*workloads: list[Statement]) -> list[Statement]:
    """Merge statements from several servers (primary and replicas) by queryid.

    Replicas are physical copies, so the same statement has the same queryid
    there; calls and time add up, the mean is recomputed.
    """
    merged: dict[tuple[int | str, int | None], Statement] = {}
    for workload in workloads:
        for st in workload:
            # Per role: the same text can name other tables through another role's search_path.
            key = (st.queryid if st.queryid is not None else st.query, st.userid)
            prev = merged.get(key)
            if prev is None:
                merged[key] = st
                continue
            calls = prev.calls + st.calls
            total = prev.total_ms + st.total_ms
            merged[key] = Statement(prev.query, prev.queryid, calls, total, total / calls if calls else 0.0,
                                    prev.rows + st.rows, prev.userid)
    return sorted(merged.values(), key=lambda s: (-s.total_ms, str(s.queryid)))


def read_queries_file(text: str) -> list[Statement]:
    """Statements from a .sql file, one call each, split at every ``;`` the scanner sees.

    The scanner (not the parser) splits, so one broken statement does not hide
    the others: it is reported as skipped later, with the parser's reason. A
    quote or comment that never ends swallows the rest of the file, which then
    becomes that one broken statement.
    """
    return fold_executions([Statement(query=chunk, queryid=None, calls=1) for chunk in split_statements(text)])


def fold_executions(statements: list[Statement]) -> list[Statement]:
    """``EXECUTE name(…)`` counted as a call of the ``PREPARE name …`` it runs, where exactly one matches.

    A log replayed as a --queries file holds one PREPARE and many EXECUTEs;
    the PREPARE's body is what the server plans, so it carries their calls.
    An EXECUTE no PREPARE (or more than one) of the workload names stays as it is.
    """
    from pglast import ast, parse_sql
    from pglast.parser import ParseError

    def root(text: str) -> Any:
        if not text.lstrip()[:8].upper().startswith(("PREPARE", "EXECUTE")):
            return None
        try:
            stmts = parse_sql(text)
        except ParseError:
            return None
        return stmts[0].stmt if len(stmts) == 1 else None

    roots = [root(st.query) for st in statements]
    prepared: dict[str, list[int]] = {}
    for i, node in enumerate(roots):
        if isinstance(node, ast.PrepareStmt) and node.name:
            prepared.setdefault(node.name, []).append(i)
    calls: dict[int, tuple[int, float]] = {}
    out: list[Statement | None] = list(statements)
    for i, node in enumerate(roots):
        if isinstance(node, ast.ExecuteStmt) and len(prepared.get(node.name or "", ())) == 1:
            target = prepared[node.name or ""][0]
            n, ms = calls.get(target, (0, 0.0))
            calls[target] = (n + statements[i].calls, ms + statements[i].total_ms)
            out[i] = None
    for target, (n, ms) in calls.items():
        st = statements[target]
        out[target] = replace(st, calls=n, total_ms=ms, mean_ms=ms / n if n else 0.0)
    return [st for st in out if st is not None]


def split_statements(text: str) -> list[str]:
    """Statement texts, without their ``;``; never drops text the scanner cannot read."""
    from pglast.parser import ParseError, scan

    chunks: list[str] = []
    start = 0
    try:
        tokens = scan(text)
    except ParseError as exc:
        # Everything before the statement holding the error is fine; that statement runs to the end.
        loc = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        head = text[:loc]
        parts = split_statements(head) if head.strip() else []
        tail_start = 0
        if parts and not head.rstrip().endswith(";"):
            parts = parts[:-1]
        if parts:
            tail_start = head.rfind(";") + 1 if ";" in head else 0
        broken = head[tail_start:] + text[loc:]
        return parts + ([broken.strip()] if broken.strip() else [])
    for tok in tokens:
        if tok.name == "ASCII_59":      # ';'
            chunks.append(text[start:tok.start])
            start = tok.end + 1
    chunks.append(text[start:])
    return [c.strip() for c in chunks if c.strip()]


def decode_queries(data: bytes, source: str) -> str:
    """The text of a --queries file, or one clear error for bytes that are not UTF-8 SQL."""
    if b"\x00" in data:
        raise InputError(f"{source} is a binary file (it holds NUL bytes), not SQL text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): "
                         "convert it first, e.g. iconv -f latin1 -t utf-8") from None


def query_text_limit(conn: psycopg.Connection[Any]) -> int:
    """track_activity_query_size: pg_stat_statements cuts query texts at this many bytes."""
    row = conn.execute("SELECT /* pgtune */ setting::int FROM pg_settings "
                       "WHERE name = 'track_activity_query_size'").fetchone()
    return int(row[0]) if row else 1024


def read_catalog(conn: psycopg.Connection[Any]) -> Catalog:
    cat = Catalog()
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT /* pgtune */ current_schemas(false) AS path")
        row = cur.fetchone()
        cat.search_path = tuple(row["path"]) if row else ("public",)
        cur.execute(catalog_sql.load("tables"))
        for r in cur.fetchall():
            parent = (r["parent_schema"], r["parent_table"]) if r["parent_table"] is not None else None
            t = Table(schema=r["schema"], name=r["table"], columns=tuple(r["columns"]),
                      column_types=tuple(r["column_types"]), reltuples=r["reltuples"],
                      size_bytes=r["size_bytes"], writes=r["writes"], deletes=r["deletes"],
                      kind=TableKind(r["kind"]), parent=parent,
                      partitions=tuple((p[0], p[1]) for p in r["partitions"]))
            cat.tables[t.key] = t
        cur.execute(catalog_sql.load("indexes"))
        for r in cur.fetchall():
            keys = r["key_count"]
            cat.indexes.append(Index(
                schema=r["schema"], table=r["table"], name=r["name"],
                columns=tuple(r["columns"][:keys]), descending=tuple(r["descending"][:keys]),
                key_defs=tuple(r["key_defs"][:keys]),
                include=tuple(c for c in r["columns"][keys:] if c is not None),
                method=r["method"], is_unique=r["is_unique"], is_primary=r["is_primary"],
                is_valid=r["is_valid"], predicate=r["predicate"], definition=r["definition"],
                size_bytes=r["size_bytes"]))
        cur.execute(catalog_sql.load("foreign_keys"))
        for r in cur.fetchall():
            cat.foreign_keys.append(ForeignKey(
                schema=r["schema"], table=r["table"], name=r["name"], columns=tuple(r["columns"]),
                ref_schema=r["ref_schema"], ref_table=r["ref_table"], on_delete=r["on_delete"]))
        # With an empty search_path pg_get_viewdef qualifies every name: a view's text then means the
        # same whichever role's search_path the statements reading it are bound with.
        with conn.transaction(force_rollback=True):
            cur.execute("SELECT /* pgtune */ pg_catalog.set_config('search_path', '', true)")
            cur.execute(catalog_sql.load("views"))
            cat.views = {(r["schema"], r["name"]): r["definition"] for r in cur.fetchall()}
        cur.execute(catalog_sql.load("relation_names"))
        cat.relation_names = {(r["schema"], r["name"]) for r in cur.fetchall()}
        cur.execute(catalog_sql.load("columns"))
        for r in cur.fetchall():
            info = ColumnInfo(
                schema=r["schema"], table=r["table"], name=r["column"], type=r["type"], category=r["category"],
                not_null=r["not_null"], reltuples=r["reltuples"], table_bytes=r["table_bytes"],
                n_distinct=None if r["n_distinct"] is None else float(r["n_distinct"]),
                null_frac=None if r["null_frac"] is None else float(r["null_frac"]), avg_width=r["avg_width"],
                most_common_vals=tuple(r["most_common_vals"] or ()),
                most_common_freqs=tuple(float(f) for f in r["most_common_freqs"] or ()),
                histogram_bounds=tuple(r["histogram_bounds"] or ()),
                correlation=None if r["correlation"] is None else float(r["correlation"]),
                default=r["default_expr"], stats_from=r["stats_from"])
            cat.columns.append(info)
            if info.n_distinct is not None:
                cat.column_stats[(info.schema, info.table, info.name)] = ColumnStats(
                    n_distinct=info.n_distinct, null_frac=info.null_frac or 0.0,
                    most_common_vals=info.most_common_vals, most_common_freqs=info.most_common_freqs,
                    histogram_bounds=info.histogram_bounds)
    return cat


def reset_counters(conn: psycopg.Connection[Any]) -> None:
    """Start a new observation window: pg_stat_statements, pg_qualstats and this database's table counters.

    This backend's own pending counters are flushed first (PostgreSQL 15+
    publishes them up to a second late), so a bulk load just run here does not
    leak into the new window. pg_qualstats is reset too (when installed here):
    its table is bounded (pg_qualstats.max), and once full it records no new
    predicate, so the window's statements would lose their constants.
    """
    if conn.info.server_version >= 150000:
        conn.execute("SELECT /* pgtune */ pg_stat_force_next_flush()")
    conn.execute("SELECT /* pgtune */ pg_stat_statements_reset()")
    conn.execute("SELECT /* pgtune */ pg_stat_reset()")
    row = conn.execute(catalog_sql.load("extension_schema"), {"name": "pg_qualstats"}).fetchone()
    if row:
        conn.execute(sql.SQL("SELECT /* pgtune */ {}()").format(sql.Identifier(row[0], "pg_qualstats_reset")))


def write_window_scale(conn: psycopg.Connection[Any]) -> float:
    """Factor that scales table write counts to pg_stat_statements' counting window.

    Both are cumulative since their own reset; comparing them raw would charge
    an index for a bulk load that happened long before the observed workload.
    """
    try:
        with conn.transaction():
            row = conn.execute(catalog_sql.load("workload_window")).fetchone()
    except psycopg.Error:
        return 1.0   # pg_stat_statements_info needs pg_stat_statements 1.9 (PostgreSQL 14)
    if not row or not row[1]:
        return 1.0
    return max(0.0, min(1.0, float(row[0]) / float(row[1])))


def sample_row(conn: psycopg.Connection[Any], table: TableKey, columns: list[str],
               timeout_ms: int = 2_000) -> dict[str, str] | None:
    """One real row's values of ``columns`` (as text), taken from a 1% TABLESAMPLE; None if none.

    Correlated columns ("userId" and "orgId") get values that occur together,
    which independent picks from pg_stats would not. Read only, bounded in time.
    """
    row = None
    # A small table's 1% of pages may hold no row: then any row will do.
    # REPEATABLE: the same data gives the same row, so the advice is the same from run to run.
    for sampling in (sql.SQL("TABLESAMPLE SYSTEM (1) REPEATABLE (1)"), sql.SQL("")):
        query = sql.SQL("SELECT /* pgtune */ {cols} FROM {tab} {sampling} WHERE {notnull} LIMIT 1").format(
            cols=sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns),
            tab=sql.Identifier(*table), sampling=sampling,
            notnull=sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(sql.Identifier(c)) for c in columns))
        try:
            with conn.transaction(force_rollback=True):
                conn.execute("SET /* pgtune */ TRANSACTION READ ONLY")
                conn.execute(sql.SQL("SET /* pgtune */ LOCAL statement_timeout = {}").format(
                    sql.Literal(timeout_ms)))
                row = conn.execute(query).fetchone()
        except psycopg.Error:
            if lost(conn):
                raise
            return None
        if row:
            break
    return dict(zip(columns, row, strict=True)) if row else None
