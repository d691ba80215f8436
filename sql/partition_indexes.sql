-- Finds the indexes attached, at any depth, under the named (partitioned) indexes: a plan on a
-- partitioned table scans its partitions' indexes, and verify counts each for the parent index.
-- Parameters: schemas, names (parallel arrays).
WITH RECURSIVE tree AS (
    SELECT i.oid AS root_oid, w.schema AS root_schema, w.name AS root, i.oid AS child
    FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS w(schema, name)
        JOIN pg_catalog.pg_namespace AS n ON n.nspname = w.schema
        JOIN pg_catalog.pg_class AS i ON i.relnamespace = n.oid AND i.relname = w.name AND i.relkind = 'I'
    UNION ALL
    SELECT t.root_oid, t.root_schema, t.root, h.inhrelid
    FROM tree AS t
        JOIN pg_catalog.pg_inherits AS h ON h.inhparent = t.child
)
SELECT /* pgtune */ t.root_schema AS schema,
       t.root AS name,
       cn.nspname AS child_schema,
       c.relname AS child
FROM tree AS t
    JOIN pg_catalog.pg_class AS c ON c.oid = t.child
    JOIN pg_catalog.pg_namespace AS cn ON cn.oid = c.relnamespace
WHERE t.child <> t.root_oid
ORDER BY 1, 2, 4;
