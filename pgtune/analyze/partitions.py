"""Partitioned tables in the analysis: where their statistics come from, said where it matters.

PostgreSQL keeps a partitioned table's statistics apart from its partitions'
(``pg_stats.inherited``), gathered only by an ANALYZE of the partitioned table
itself, which autovacuum never runs. Without them pgtune reads its largest
partition's (``ColumnInfo.stats_from``) and says so, with the ANALYZE to run.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..capture import Catalog, TableKey
from ..ddl import name


def qualified(key: TableKey) -> str:
    return f"{name(key[0])}.{name(key[1])}"


def statistics_hints(catalog: Catalog, tables: Iterable[TableKey]) -> list[str]:
    """One line per partitioned table among ``tables`` whose own statistics are missing, with the fix."""
    out = []
    for key in sorted(set(tables)):
        table = catalog.tables.get(key)
        if table is None or not table.partitioned:
            continue
        columns = catalog.table_columns(key).values()
        borrowed = sorted({c.stats_from for c in columns if c.stats_from})
        if borrowed:
            out.append(f"{qualified(key)} has no statistics of its own (autovacuum never analyzes a partitioned "
                       f"table): pgtune read those of its partition {', '.join(borrowed)}, and the planner "
                       f"misjudges statements that join or group it; run ANALYZE {qualified(key)}; (and again "
                       "after large changes, e.g. from the job that adds partitions)")
        elif columns and all(c.n_distinct is None for c in columns):
            out.append(f"{qualified(key)} has no statistics (neither its own nor its partitions'): run "
                       f"ANALYZE {qualified(key)};")
    return out
