-- Finds whether each table holds any page now (pg_relation_size of its main
-- fork, read from the file, not from statistics): a table ANALYZE saw empty
-- whose write counters read 0 may have rows written before a statistics
-- reset or a crash restart. Parameters: %(schemas)s, %(tables)s (pairs).
SELECT /* pgtune */ n.nspname AS schema, c.relname AS table,
       pg_catalog.pg_relation_size(c.oid) > 0 AS has_pages
FROM unnest(%(schemas)s::text[], %(tables)s::text[]) AS k(schema, name)
    JOIN pg_catalog.pg_namespace AS n ON n.nspname = k.schema
    JOIN pg_catalog.pg_class AS c ON c.relnamespace = n.oid AND c.relname = k.name
WHERE c.relkind = 'r';
