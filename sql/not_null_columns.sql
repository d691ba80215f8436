-- Finds which of the named columns are NOT NULL (pg_attribute.attnotnull).
-- Parameters: schemas, tables, columns (parallel arrays).
SELECT /* pgtune */ w.schema, w.table, w.column, a.attnotnull AS not_null
FROM unnest(%(schemas)s::text[], %(tables)s::text[], %(columns)s::text[]) AS w(schema, "table", "column")
    JOIN pg_catalog.pg_namespace AS n ON n.nspname = w.schema
    JOIN pg_catalog.pg_class AS c ON c.relnamespace = n.oid AND c.relname = w.table
    JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attname = w.column
ORDER BY 1, 2, 3;
