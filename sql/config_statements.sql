-- Finds the statements of the current database that wrote temporary files or
-- spent time in JIT compilation, with their role, calls, execution time, the
-- temporary blocks they wrote and their JIT times (pg_stat_statements 1.10,
-- PostgreSQL 15+). pgtune's own statements are left out. The view is the
-- caller's schema-qualified pg_stat_statements. Parameter: limit.
SELECT /* pgtune */ s.queryid,
       s.query,
       r.rolname AS role,
       s.calls::bigint AS calls,
       s.total_exec_time::float8 AS total_ms,
       s.temp_blks_written::bigint AS temp_blks_written,
       s.jit_functions::bigint AS jit_functions,
       (s.jit_generation_time + s.jit_inlining_time + s.jit_optimization_time
        + s.jit_emission_time)::float8 AS jit_ms
FROM {statements} AS s
    JOIN pg_catalog.pg_database AS d ON d.oid = s.dbid
    LEFT JOIN pg_catalog.pg_roles AS r ON r.oid = s.userid
WHERE d.datname = pg_catalog.current_database()
  AND strpos(s.query, '/* pgtune */') = 0
  AND (s.temp_blks_written > 0 OR s.jit_functions > 0 OR s.query ~* '^\s*update\M')
ORDER BY s.total_exec_time DESC, s.queryid
LIMIT %(limit)s;
