-- Finds the statements of the current database that wrote temporary files,
-- with their role, calls, execution time and the temporary blocks they wrote
-- (pg_stat_statements before 1.10 has no JIT columns: NULL here). pgtune's own
-- statements are left out. The view is the caller's schema-qualified
-- pg_stat_statements. Parameter: limit.
SELECT /* pgtune */ s.queryid,
       s.query,
       r.rolname AS role,
       s.calls::bigint AS calls,
       s.total_exec_time::float8 AS total_ms,
       s.temp_blks_written::bigint AS temp_blks_written,
       NULL::bigint AS jit_functions,
       NULL::float8 AS jit_ms
FROM {statements} AS s
    JOIN pg_catalog.pg_database AS d ON d.oid = s.dbid
    LEFT JOIN pg_catalog.pg_roles AS r ON r.oid = s.userid
WHERE d.datname = pg_catalog.current_database()
  AND strpos(s.query, '/* pgtune */') = 0
  AND (s.temp_blks_written > 0 OR s.query ~* '^\s*update\M')
ORDER BY s.total_exec_time DESC, s.queryid
LIMIT %(limit)s;
