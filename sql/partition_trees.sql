-- Finds every partition of the named partitioned tables, sub-partitions
-- followed down (pg_partition_tree), with the partitioned table it belongs to
-- directly and whether it is itself partitioned (relkind p): the tables an
-- index on a partitioned table is built on, one by one.
-- Parameters: schemas, tables (parallel arrays).
SELECT /* pgtune */ w.schema AS root_schema,
       w.table AS root_table,
       cn.nspname AS schema,
       c.relname AS table,
       c.relkind = 'p' AS partitioned,
       pn.nspname AS parent_schema,
       pc.relname AS parent_table,
       t.level
FROM unnest(%(schemas)s::text[], %(tables)s::text[]) AS w(schema, "table")
    JOIN pg_catalog.pg_namespace AS rn ON rn.nspname = w.schema
    JOIN pg_catalog.pg_class AS r ON r.relnamespace = rn.oid AND r.relname = w.table AND r.relkind = 'p'
    CROSS JOIN LATERAL pg_catalog.pg_partition_tree(r.oid) AS t
    JOIN pg_catalog.pg_class AS c ON c.oid = t.relid
    JOIN pg_catalog.pg_namespace AS cn ON cn.oid = c.relnamespace
    JOIN pg_catalog.pg_class AS pc ON pc.oid = t.parentrelid
    JOIN pg_catalog.pg_namespace AS pn ON pn.oid = pc.relnamespace
WHERE t.level > 0
ORDER BY w.schema, w.table, t.level, cn.nspname, c.relname;
