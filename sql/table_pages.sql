-- A table's pages now, from the size of its main fork (not relpages, which is 0 before the first VACUUM or
-- ANALYZE and may be far out of date: a sample of "all of it" then read the whole table, r9): how much of
-- it a sample reads (baseline_pages). Parameters: schema, table.
SELECT /* pgtune */ pg_catalog.pg_relation_size(t.oid)
       / pg_catalog.current_setting('block_size')::int8 AS pages
FROM pg_catalog.pg_class AS t
    JOIN pg_catalog.pg_namespace AS n ON n.oid = t.relnamespace
WHERE n.nspname = %(schema)s AND t.relname = %(table)s AND t.relkind = 'r'
