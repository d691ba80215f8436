-- Finds planner statistics per column (pg_stats): distinct values and NULL
-- fraction, used to order composite index columns by selectivity.
/* pgtune */
SELECT s.schemaname AS schema,
       s.tablename AS table,
       s.attname AS column,
       s.n_distinct,
       s.null_frac
FROM pg_catalog.pg_stats AS s
WHERE s.schemaname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
ORDER BY s.schemaname, s.tablename, s.attname;
