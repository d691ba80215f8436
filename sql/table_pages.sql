-- A table's pages as of its last VACUUM/ANALYZE (relpages): how much of it a sample reads (baseline_pages).
-- Parameters: schema, table.
SELECT /* pgtune */ t.relpages
FROM pg_catalog.pg_class AS t
    JOIN pg_catalog.pg_namespace AS n ON n.oid = t.relnamespace
WHERE n.nspname = %(schema)s AND t.relname = %(table)s AND t.relkind = 'r'
