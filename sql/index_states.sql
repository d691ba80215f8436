-- Finds whether named indexes exist and are valid (pg_index.indisvalid), so
-- apply can tell a finished build from one a crash left INVALID, with the OID
-- and definition that tell pgtune's index from someone else's of that name,
-- and its size on disk (status shows it beside the forecast made at emit).
-- Parameters: schemas, names (parallel arrays).
SELECT /* pgtune */ n.nspname AS schema,
       i.relname AS name,
       i.oid AS oid,
       x.indisvalid AS is_valid,
       x.indisready AS is_ready,
       pg_catalog.pg_get_indexdef(i.oid) AS definition,
       pg_catalog.pg_relation_size(i.oid) AS bytes
FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS w(schema, name)
    JOIN pg_catalog.pg_namespace AS n ON n.nspname = w.schema
    JOIN pg_catalog.pg_class AS i ON i.relnamespace = n.oid AND i.relname = w.name AND i.relkind = 'i'
    JOIN pg_catalog.pg_index AS x ON x.indexrelid = i.oid
ORDER BY n.nspname, i.relname;
