-- Finds the statements of one database by total execution time, from
-- pg_stat_statements (PostgreSQL 13+ column names). pgtune's own queries are
-- tagged /* pgtune */ and left out, and so is every utility statement. A SQL-level
-- PREPARE stays: pg_stat_statements counts its EXECUTEs under its text, and
-- pgtune analyzes its body.
-- Parameters: database (NULL: the current one), min_calls, min_mean_ms,
-- min_total_ms, limit.
SELECT /* pgtune */ s.queryid,
       s.userid::int8 AS userid,       -- the role that ran it: its search_path and row security
       s.query,
       s.calls,
       s.total_exec_time AS total_ms,
       s.mean_exec_time AS mean_ms,
       s.rows
FROM pg_stat_statements AS s
    JOIN pg_catalog.pg_database AS d ON d.oid = s.dbid
WHERE d.datname = coalesce(%(database)s, current_database())
  AND strpos(s.query, '/* pgtune */') = 0
  -- Utility statements never take a slot of --top: session chatter, maintenance,
  -- DDL, and EXPLAIN (someone's EXPLAIN ANALYZE in psql is not the workload).
  AND s.query !~* '^\s*((/\*([^*]|\*+[^*/])*\*+/|--[^\n]*(\n|$))\s*)*(explain|set|reset|show|begin|start|commit|end|rollback|abort|savepoint|release|execute|deallocate|discard|vacuum|analyze|checkpoint|listen|unlisten|notify|lock|copy|create|alter|drop|grant|revoke|comment|truncate|reindex|cluster|refresh|security|load|do|call|declare|fetch|move|close)\M'

  AND s.calls >= %(min_calls)s
  AND s.mean_exec_time >= %(min_mean_ms)s
  AND s.total_exec_time >= %(min_total_ms)s
ORDER BY s.total_exec_time DESC, s.queryid
LIMIT %(limit)s;
