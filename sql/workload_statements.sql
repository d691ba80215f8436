-- Finds the statements of the current database by total execution time, from
-- pg_stat_statements (PostgreSQL 13+ column names). pgtune's own queries are
-- tagged /* pgtune */ and left out. Parameter: limit.
/* pgtune */
SELECT s.queryid,
       s.query,
       s.calls,
       s.total_exec_time AS total_ms,
       s.mean_exec_time AS mean_ms,
       s.rows,
       s.shared_blks_hit,
       s.shared_blks_read
FROM pg_stat_statements AS s
    JOIN pg_catalog.pg_database AS d ON d.oid = s.dbid
WHERE d.datname = current_database()
  AND strpos(s.query, '/* pgtune */') = 0
ORDER BY s.total_exec_time DESC, s.queryid
LIMIT %(limit)s;
