-- Finds the ordinary and partitioned user tables, and materialized views (an
-- index on one serves its readers), with their columns, size,
-- row estimate and write activity: rows whose write maintains every index
-- (inserts and non-HOT updates) and deletes (which scan referencing FKs).
SELECT /* pgtune */ n.nspname AS schema,
       c.relname AS table,
       c.reltuples::float8 AS reltuples,  -- -1: never analyzed
       pg_catalog.pg_table_size(c.oid) AS size_bytes,
       coalesce(st.n_tup_ins + st.n_tup_upd - st.n_tup_hot_upd, 0) AS writes,
       coalesce(st.n_tup_del, 0) AS deletes,
       array(SELECT a.attname::text
             FROM pg_catalog.pg_attribute AS a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum) AS columns,
       array(SELECT pg_catalog.format_type(a.atttypid, a.atttypmod)
             FROM pg_catalog.pg_attribute AS a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum) AS column_types
FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    LEFT JOIN pg_catalog.pg_stat_user_tables AS st ON st.relid = c.oid
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
  AND n.nspname NOT LIKE 'pg\_toast%'
  AND n.nspname NOT LIKE 'pg\_temp%'
ORDER BY n.nspname, c.relname;
