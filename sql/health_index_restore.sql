-- Finds what rebuilding an index exactly needs beyond pg_get_indexdef, which
-- leaves out the tablespace, the comment, CLUSTER ON and the statistics
-- targets of expression columns (pg_dump sets each of these separately).
SELECT /* pgtune */ n.nspname AS schema,
       i.relname AS index,
       t.relname AS table,
       pg_catalog.pg_get_indexdef(i.oid) AS definition,
       ts.spcname AS tablespace,
       pg_catalog.obj_description(i.oid, 'pg_class') AS comment,
       x.indisclustered AS is_clustered,
       array(SELECT a.attnum::int
             FROM pg_catalog.pg_attribute AS a
             WHERE a.attrelid = i.oid AND a.attnum > 0 AND a.attstattarget >= 0
             ORDER BY a.attnum) AS stats_columns,
       array(SELECT a.attstattarget::int
             FROM pg_catalog.pg_attribute AS a
             WHERE a.attrelid = i.oid AND a.attnum > 0 AND a.attstattarget >= 0
             ORDER BY a.attnum) AS stats_targets,
       pg_catalog.pg_relation_size(i.oid) AS index_bytes
FROM pg_catalog.pg_index AS x
    JOIN pg_catalog.pg_class AS i ON i.oid = x.indexrelid
    JOIN pg_catalog.pg_class AS t ON t.oid = x.indrelid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = i.relnamespace
    LEFT JOIN pg_catalog.pg_tablespace AS ts ON ts.oid = i.reltablespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_%';
