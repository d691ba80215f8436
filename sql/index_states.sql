-- Finds whether named indexes exist and are valid (pg_index.indisvalid), so
-- apply can tell a finished build from one a crash left INVALID, with the OID
-- and definition that tell pgtune's index from someone else's of that name,
-- and its size on disk (status shows it beside the forecast made at emit).
-- A partitioned index (relkind I) holds nothing itself: its size is the sum
-- over the indexes attached to it, sub-partitions followed down, and it is
-- valid once every partition's index is attached. `parent_*` names the
-- partitioned index an index is attached to, if any.
-- Parameters: schemas, names (parallel arrays).
SELECT /* pgtune */ n.nspname AS schema,
       i.relname AS name,
       i.oid AS oid,
       i.relkind = 'I' AS partitioned,
       x.indisvalid AS is_valid,
       x.indisready AS is_ready,
       pg_catalog.pg_get_indexdef(i.oid) AS definition,
       CASE WHEN i.relkind = 'I'
            THEN (SELECT coalesce(sum(pg_catalog.pg_relation_size(p.relid)), 0)::int8
                  FROM pg_catalog.pg_partition_tree(i.oid) AS p WHERE p.isleaf)
            ELSE pg_catalog.pg_relation_size(i.oid) END AS bytes,
       pn.nspname AS parent_schema,
       pc.relname AS parent_name
FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS w(schema, name)
    JOIN pg_catalog.pg_namespace AS n ON n.nspname = w.schema
    JOIN pg_catalog.pg_class AS i ON i.relnamespace = n.oid AND i.relname = w.name AND i.relkind IN ('i', 'I')
    JOIN pg_catalog.pg_index AS x ON x.indexrelid = i.oid
    LEFT JOIN pg_catalog.pg_inherits AS h ON h.inhrelid = i.oid AND i.relispartition
    LEFT JOIN pg_catalog.pg_class AS pc ON pc.oid = h.inhparent
    LEFT JOIN pg_catalog.pg_namespace AS pn ON pn.oid = pc.relnamespace
ORDER BY n.nspname, i.relname;
