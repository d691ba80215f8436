-- Finds whether each table holds any page now (pg_relation_size of its main
-- fork, read from the file, not from statistics): a table ANALYZE saw empty
-- whose write counters read 0 may have rows written before a statistics
-- reset or a crash restart. A partitioned table has no storage of its own:
-- its pages are its leaf partitions'. Not pg_table_size: a TOAST table's
-- index has a page even when the table has no row.
-- Parameters: %(schemas)s, %(tables)s (pairs).
SELECT /* pgtune */ n.nspname AS schema, c.relname AS table,
       CASE WHEN c.relkind = 'p'
            THEN EXISTS (SELECT 1 FROM pg_catalog.pg_partition_tree(c.oid) AS t
                         WHERE t.isleaf AND pg_catalog.pg_relation_size(t.relid) > 0)
            ELSE pg_catalog.pg_relation_size(c.oid) > 0 END AS has_pages
FROM unnest(%(schemas)s::text[], %(tables)s::text[]) AS k(schema, name)
    JOIN pg_catalog.pg_namespace AS n ON n.nspname = k.schema
    JOIN pg_catalog.pg_class AS c ON c.relnamespace = n.oid AND c.relname = k.name
WHERE c.relkind IN ('r', 'p');
