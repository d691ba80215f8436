-- Finds every column of the user tables with its planner statistics
-- (pg_stats: distinct values, NULL fraction, width, physical order correlation,
-- most common values) and
-- what CHECK-constraint proposals need besides: type and its category
-- (pg_type.typcategory: S string, N numeric, D date/time, E enum, B boolean),
-- NOT NULL, and the table's size. Index advice and constraints read this one query.
SELECT /* pgtune */ n.nspname AS schema,
       c.relname AS table,
       a.attname AS column,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
       t.typcategory AS category,
       a.attnotnull AS not_null,
       c.reltuples::float8 AS reltuples,
       pg_catalog.pg_table_size(c.oid) AS table_bytes,
       s.n_distinct,
       s.null_frac,
       s.avg_width,
       s.correlation,
       s.most_common_vals::text::text[] AS most_common_vals,
       s.most_common_freqs,
       s.histogram_bounds::text::text[] AS histogram_bounds
FROM pg_catalog.pg_attribute AS a
    JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
    LEFT JOIN pg_catalog.pg_stats AS s
        ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = a.attname AND NOT s.inherited
WHERE c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
  AND n.nspname NOT LIKE 'pg\_%'
ORDER BY n.nspname, c.relname, a.attnum;
