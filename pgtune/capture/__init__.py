"""Capture: the workload (pg_stat_statements) and a catalog snapshot, as plain data.

Everything downstream (analyze, plan, verify) works on these dataclasses, so
the analysis can be tested and re-run without touching the server again.
One module per source: workload (the statements), catalog (the relations and
their pg_stats), statistics (the counting window and sampled values); other
rooms import from here.
"""

from __future__ import annotations

from .catalog import (
                      Catalog,
                      ColumnInfo,
                      ForeignKey,
                      Index,
                      OnDelete,
                      Table,
                      TableKey,
                      TableKind,
                      distinct_count,
                      read_catalog,
)
from .column_stats import ColumnStats
from .statistics import reset_counters, sample_row, write_window_scale
from .workload import (
                      Statement,
                      WorkloadFilter,
                      decode_queries,
                      fold_executions,
                      merge_workloads,
                      read_adhoc,
                      read_queries_file,
                      read_temporary_names,
                      read_workload,
                      sent_by_prisma,
                      split_statements,
                      temporary_names,
                      workload_time,
)
from .writes import WriteStatement, read_supplied, read_unseen_writers, read_writes

__all__ = [
                      "Catalog",
                      "ColumnInfo",
                      "ColumnStats",
                      "ForeignKey",
                      "Index",
                      "OnDelete",
                      "Statement",
                      "Table",
                      "TableKey",
                      "TableKind",
                      "WorkloadFilter",
                      "WriteStatement",
                      "decode_queries",
                      "distinct_count",
                      "fold_executions",
                      "merge_workloads",
                      "read_adhoc",
                      "read_catalog",
                      "read_queries_file",
                      "read_supplied",
                      "read_temporary_names",
                      "read_unseen_writers",
                      "read_workload",
                      "read_writes",
                      "reset_counters",
                      "sample_row",
                      "sent_by_prisma",
                      "split_statements",
                      "temporary_names",
                      "workload_time",
                      "write_window_scale",
]
