-- Finds planner statistics per column (pg_stats): distinct values, NULL
-- fraction and most common values with their frequencies, used to order
-- composite index columns by selectivity and to spot rare values.
SELECT /* pgtune */ s.schemaname AS schema,
       s.tablename AS table,
       s.attname AS column,
       s.n_distinct,
       s.null_frac,
       s.most_common_vals::text::text[] AS most_common_vals,
       s.most_common_freqs
FROM pg_catalog.pg_stats AS s
WHERE s.schemaname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
ORDER BY s.schemaname, s.tablename, s.attname;
