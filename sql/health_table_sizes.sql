-- Finds each user table's size on disk beside what its rows need: row count
-- (reltuples), the sum of its columns' average widths (pg_stats.avg_width)
-- and its fillfactor, from which a freshly written heap's size follows; and
-- the schema of pgstattuple, when it is installed to measure the free space instead.
SELECT /* pgtune */ n.nspname AS schema,
       c.relname AS table,
       c.oid AS oid,
       pg_catalog.pg_relation_size(c.oid) AS table_bytes,
       greatest(c.reltuples, 0)::float8 AS rows,
       (SELECT sum(s.avg_width)::float8 FROM pg_catalog.pg_stats AS s
        WHERE s.schemaname = n.nspname AND s.tablename = c.relname AND NOT s.inherited) AS row_width,
       (SELECT count(*) FROM pg_catalog.pg_attribute AS a
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
       coalesce((SELECT o.option_value::int FROM pg_catalog.pg_options_to_table(c.reloptions) AS o
                 WHERE o.option_name = 'fillfactor'), 100) AS fillfactor,
       (SELECT e.extnamespace::regnamespace::text FROM pg_catalog.pg_extension AS e
        WHERE e.extname = 'pgstattuple') AS pgstattuple_schema
FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
  AND n.nspname NOT LIKE 'pg\_%'
ORDER BY n.nspname, c.relname;
