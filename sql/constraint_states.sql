-- Finds whether named constraints exist on their tables and are validated,
-- with their OIDs (rollback drops only the one pgtune created).
-- Parameters: schemas, tables, names (parallel arrays).
SELECT /* pgtune */ w.schema, w.table, w.name, k.oid AS oid, k.convalidated AS validated
FROM unnest(%(schemas)s::text[], %(tables)s::text[], %(names)s::text[]) AS w(schema, "table", name)
    JOIN pg_catalog.pg_namespace AS n ON n.nspname = w.schema
    JOIN pg_catalog.pg_class AS c ON c.relnamespace = n.oid AND c.relname = w.table
    JOIN pg_catalog.pg_constraint AS k ON k.conrelid = c.oid AND k.conname = w.name
ORDER BY 1, 2, 3;
