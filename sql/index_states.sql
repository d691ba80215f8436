-- Finds whether named indexes exist and are valid (pg_index.indisvalid), so
-- apply can tell a finished build from one a crash left INVALID.
-- Parameters: schemas, names (parallel arrays).
/* pgtune */
SELECT n.nspname AS schema,
       i.relname AS name,
       x.indisvalid AS is_valid,
       x.indisready AS is_ready
FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS w(schema, name)
    JOIN pg_catalog.pg_namespace AS n ON n.nspname = w.schema
    JOIN pg_catalog.pg_class AS i ON i.relnamespace = n.oid AND i.relname = w.name AND i.relkind = 'i'
    JOIN pg_catalog.pg_index AS x ON x.indexrelid = i.oid
ORDER BY n.nspname, i.relname;
