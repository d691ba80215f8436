"""The catalog snapshot: tables, indexes, foreign keys, views and columns with their pg_stats, as plain data."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from sys import intern
from typing import Any

import psycopg
from psycopg.rows import dict_row

from .. import catalog_sql
from .column_stats import ArrayText, ColumnStats

TableKey = tuple[str, str]  # (schema, table)


def distinct_count(n_distinct: float, reltuples: float) -> float:
    """Distinct values from pg_stats.n_distinct: a negative value is a fraction of the rows."""
    return n_distinct if n_distinct >= 0 else -n_distinct * max(reltuples, 0.0)



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
    relpages: int = 0           # pg_class: pages at the last VACUUM / ANALYZE / CREATE INDEX
    relallvisible: int = 0      # ...of which the visibility map then marked all-visible
    dead_rows: int = 0          # rows written since relallvisible was counted (least of n_dead_tup and
                                # n_mod_since_analyze: VACUUM and ANALYZE both recount the map)
    policed: bool = False       # row security filters pgtune's own reads of it (row_security_active): no sample
    virtual: tuple[tuple[str, str], ...] = ()   # PostgreSQL 18's virtual generated columns: (name, expression)

    def generated_as(self, column: str) -> str | None:
        """The expression of a virtual generated column (no index may name it; the planner reads the
        expression), None for any other column."""
        return next((expr for name, expr in self.virtual if name == column), None)

    @property
    def visibility_lost(self) -> float:
        """The share of the table's pages pg_class counts all-visible whose bit the writes since have cleared.

        The planner charges an index-only scan a heap fetch only for the pages
        ``relallvisible`` leaves out; it is the last VACUUM's or ANALYZE's count, kept until
        the next, while each update or delete since clears its page's bit. A built
        index's CREATE INDEX counts the map again (so its plans see it as it is),
        a hypothetical one's plans see the old count. Dead rows taken to fall on
        pages at random: a page keeps its bit with chance exp(-dead/pages)
        (measured: 29,963 rows updated over 32,259 all-visible pages left 12,638
        all-visible; this says 12,749).
        """
        if self.relpages <= 0 or self.dead_rows <= 0:
            return 0.0
        visible = min(self.relallvisible / self.relpages, 1.0)
        return visible * (1.0 - math.exp(-self.dead_rows / self.relpages))

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
    equality: tuple[bool, ...] = ()  # per key column: its operator class has an = (sql/indexes.sql)

    @property
    def table_key(self) -> TableKey:
        return (self.schema, self.table)


class OnDelete(StrEnum):
    """pg_constraint.confdeltype: what a delete on the referenced table does to the referencing rows."""

    NO_ACTION = "a"
    RESTRICT = "r"
    CASCADE = "c"
    SET_NULL = "n"
    SET_DEFAULT = "d"


@dataclass(frozen=True)
class ForeignKey:
    schema: str
    table: str
    name: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    on_delete: OnDelete = OnDelete.NO_ACTION
    ref_columns: tuple[str, ...] = ()        # the parent's: an UPDATE setting one searches this table too

    @property
    def table_key(self) -> TableKey:
        return (self.schema, self.table)


@dataclass(frozen=True, slots=True)
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
    correlation: float | None = None    # physical order vs value order (1: stored sorted)
    default: str | None = None          # the column's DEFAULT expression (pg_get_expr), None: no default
    stats_from: str | None = None       # a partitioned table without inherited statistics: the leaf they are from
    statistics: ColumnStats | None = field(default=None, repr=False)   # the arrays (shared with column_stats)

    @property
    def most_common_vals(self) -> tuple[str, ...]:
        return self.statistics.most_common_vals if self.statistics is not None else ()

    @property
    def most_common_freqs(self) -> tuple[float, ...]:
        return self.statistics.most_common_freqs if self.statistics is not None else ()

    @property
    def histogram_bounds(self) -> tuple[str, ...]:
        return self.statistics.histogram_bounds if self.statistics is not None else ()


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
    foreign: dict[TableKey, str] = field(default_factory=dict)   # (schema, foreign table) -> its server
    ledgers: tuple[TableKey, ...] = ()      # migration tools' ledger tables (sql/migration_ledgers.sql), Prisma's first
    _by_table: dict[TableKey, dict[str, ColumnInfo]] = field(default_factory=dict, repr=False, compare=False)
    _columns_seen: int = field(default=-1, repr=False, compare=False)
    _indexes_by_table: dict[TableKey, list[Index]] = field(default_factory=dict, repr=False, compare=False)
    _indexes_seen: int = field(default=-1, repr=False, compare=False)
    # The tables a writing user function names (capture.read_unseen_writers), read once for the snapshot's upkeep
    # cap and the CHECK family's writes; None: not read yet.
    unseen_writers: frozenset[TableKey] | None = field(default=None, repr=False, compare=False)

    def policed(self, key: TableKey) -> bool:
        """Does row security filter pgtune's own reads of ``key``? Then no sample of it is read: the application's
        policy would refuse it (a current_setting without missing_ok: an ERROR in the server's log) or answer for
        no tenant (p12 F7, pgtune a member of the application's role as docs/roles.md asks). Nor of a table it
        may not SELECT (a partition the application's role reads through its parent: p14)."""
        t = self.tables.get(key)
        return t is not None and t.policed

    def table_columns(self, key: TableKey) -> dict[str, ColumnInfo]:
        """A table's columns by name (indexed on first use, again if columns were added since)."""
        if self._columns_seen != len(self.columns):
            self._by_table = {}
            for c in self.columns:
                self._by_table.setdefault((c.schema, c.table), {})[c.name] = c
            self._columns_seen = len(self.columns)
        return self._by_table.get(key, {})

    @property
    def prisma_managed(self) -> bool:
        """Prisma Migrate made this schema: its ledger, _prisma_migrations, is a table here."""
        return any(name == "_prisma_migrations" for _, name in self.ledgers)

    @property
    def index_suffix(self) -> str:
        """The end of the names pgtune gives its indexes: ``idx``, or ``pgtune_idx`` where Prisma migrates.

        ``<table>_<columns>_idx`` is Prisma's own default name: on a database its
        migrations manage, the application's next release may create the very same
        index under it, and its migration fails on "already exists" (u2's F9,
        umami's 03_metric_performance_index). A name Prisma never generates makes
        that a duplicate health reports, not a stopped deploy; a schema line keeps
        it with ``map:``.
        """
        return "pgtune_idx" if self.prisma_managed else "idx"

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

    def ancestors(self, key: TableKey) -> list[TableKey]:
        """The partitioned tables above ``key``, nearest first (none for a table that is no partition)."""
        out: list[TableKey] = []
        up = self.tables[key].parent if key in self.tables else None
        while up is not None and up not in out and up != key:
            out.append(up)
            up = self.tables[up].parent if up in self.tables else None
        return out

    def lookup(self, schema: str | None, name: str, search_path: tuple[str, ...] | None = None) -> Table | None:
        """Resolve a table reference the way the server would, through ``search_path`` (default: pgtune's).

        The first relation of the name on the path, of any kind, is the one the server reads: a foreign table or
        a view there gives None (c19, c20: a plain table of the name further on was bound in its place, and an
        index proposed on a table the statement never reads)."""
        if schema is not None:
            return self.tables.get((schema, name))
        for s in self.search_path if search_path is None else search_path:
            t = self.tables.get((s, name))
            if t is not None:
                return t
            if self._other_relation(s, name):
                return None
        return None

    def _other_relation(self, schema: str, name: str) -> bool:
        """Does ``schema`` hold a relation of this name that is no table pgtune reads (a view, a foreign table, a
        sequence…)? The first of the name on a search_path hides any further on."""
        key = (schema, name)
        return key in self.views or key in self.foreign or (key in self.relation_names and key not in self.tables)

    def lookup_foreign(self, schema: str | None, name: str,
                       search_path: tuple[str, ...] | None = None) -> TableKey | None:
        """The foreign table a reference reads, resolved through ``search_path`` like a table; None when it reads
        none (or a table or view of the name comes first on the path)."""
        if schema is not None:
            return (schema, name) if (schema, name) in self.foreign else None
        for s in self.search_path if search_path is None else search_path:
            if (s, name) in self.foreign:
                return (s, name)
            if (s, name) in self.tables or (s, name) in self.views:
                return None
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
        """A view's definition, resolved through search_path like a table (a table or foreign table first: None)."""
        if schema is not None:
            return self.views.get((schema, name))
        for s in self.search_path if search_path is None else search_path:
            if (s, name) in self.views:
                return self.views[(s, name)]
            if (s, name) in self.tables or self._other_relation(s, name):
                return None
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



def _array_text(text: str | None) -> ArrayText | tuple[()]:
    """A pg_stats array's text as ColumnStats keeps it; none (NULL, or no values): an empty tuple."""
    return () if text is None or text == "{}" else text.encode()


def read_catalog(conn: psycopg.Connection[Any]) -> Catalog:
    cat = Catalog()
    # One rolled-back transaction: the locks the reads take (pg_partition_tree's, on the partitions) are held to
    # the end of the reads, a few seconds, and nothing stays behind. JIT off (catalog_sql.uncompiled): with it on,
    # sql/columns.sql (one pg_stats lookup per column, far over jit_above_cost) spent 4.3 s of its 5.3 s
    # compiling on 500 tables, 8.7 s of 16.9 on 4,000 (tables.sql and indexes.sql 4.1 and 3.2 s more there).
    with conn.transaction(force_rollback=True), catalog_sql.uncompiled(conn), \
            conn.cursor(row_factory=dict_row) as cur:
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
                      partitions=tuple((p[0], p[1]) for p in r["partitions"]), relpages=r["relpages"],
                      relallvisible=r["relallvisible"], dead_rows=r["dead_rows"], policed=r["policed"],
                      virtual=tuple((v[0], v[1]) for v in r["virtual"]))
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
                size_bytes=r["size_bytes"], equality=tuple(r["equality"][:keys])))
        cur.execute(catalog_sql.load("foreign_keys"))
        for r in cur.fetchall():
            cat.foreign_keys.append(ForeignKey(
                schema=r["schema"], table=r["table"], name=r["name"], columns=tuple(r["columns"]),
                ref_schema=r["ref_schema"], ref_table=r["ref_table"], on_delete=OnDelete(r["on_delete"]),
                ref_columns=tuple(r["ref_columns"])))
        # With an empty search_path pg_get_viewdef qualifies every name: a view's text then means the
        # same whichever role's search_path the statements reading it are bound with.
        with conn.transaction(force_rollback=True):
            cur.execute("SELECT /* pgtune */ pg_catalog.set_config('search_path', '', true)")
            cur.execute(catalog_sql.load("views"))
            cat.views = {(r["schema"], r["name"]): r["definition"] for r in cur.fetchall()}
        cur.execute(catalog_sql.load("foreign_tables"))
        cat.foreign = {(r["schema"], r["name"]): r["server"] for r in cur.fetchall()}
        cur.execute(catalog_sql.load("migration_ledgers"))
        cat.ledgers = tuple((r["schema"], r["ledger"]) for r in cur.fetchall())
        cur.execute(catalog_sql.load("relation_names"))
        cat.relation_names = {(r["schema"], r["name"]) for r in cur.fetchall()}
        _read_columns(cur, cat)
    return cat


def _read_columns(cur: psycopg.Cursor[dict[str, Any]], cat: Catalog) -> None:
    """Each column with its statistics (sql/columns.sql) into ``cat.columns`` and ``cat.column_stats``."""
    # Row by row, not fetchall(): a dict per column of 2,000 tables at once was a peak of its own. The
    # arrays come as the server's text (ColumnStats splits them when read).
    cur.execute(catalog_sql.load("columns"))
    for r in cur:
        # A table's rows and size, as sql/tables.sql read them (a table made between the two reads has none).
        table = cat.tables.get((r["schema"], r["table"]))
        n_distinct = None if r["n_distinct"] is None else float(r["n_distinct"])
        null_frac = None if r["null_frac"] is None else float(r["null_frac"])
        stats = None if n_distinct is None else ColumnStats(
            n_distinct=n_distinct, null_frac=null_frac or 0.0,
            most_common_vals=_array_text(r["most_common_vals"]),
            most_common_freqs=_array_text(r["most_common_freqs"]),
            histogram_bounds=_array_text(r["histogram_bounds"]))
        info = ColumnInfo(   # the names and types repeat from column to column: one str each
            schema=intern(r["schema"]), table=intern(r["table"]), name=intern(r["column"]),
            type=intern(r["type"]), category=intern(r["category"]),
            not_null=r["not_null"], reltuples=table.reltuples if table else -1.0,
            table_bytes=(table.size_bytes or 0) if table else 0,
            n_distinct=n_distinct, null_frac=null_frac, avg_width=r["avg_width"],
            correlation=None if r["correlation"] is None else float(r["correlation"]),
            default=r["default_expr"], stats_from=r["stats_from"], statistics=stats)
        cat.columns.append(info)
        if stats is not None:
            cat.column_stats[(info.schema, info.table, info.name)] = stats
