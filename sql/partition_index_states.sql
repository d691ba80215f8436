-- Finds the indexes attached to the named partitioned indexes (relkind I),
-- sub-partitions followed down (pg_partition_tree of the index), with their
-- tables, the index each is attached to, validity and definition: what a
-- restore builds and attaches again, what apply finds already attached, and
-- which partitions of the table have no index under the partitioned one yet
-- (`index` NULL for such a partition).
-- Parameters: schemas, names (parallel arrays).
WITH roots AS (
    SELECT w.schema, w.name, i.oid AS index_oid, x.indrelid AS table_oid
    FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS w(schema, name)
        JOIN pg_catalog.pg_namespace AS n ON n.nspname = w.schema
        JOIN pg_catalog.pg_class AS i ON i.relnamespace = n.oid AND i.relname = w.name AND i.relkind = 'I'
        JOIN pg_catalog.pg_index AS x ON x.indexrelid = i.oid
), attached AS (
    SELECT r.schema AS root_schema, r.name AS root_name, ix.indrelid AS table_oid, t.relid AS index_oid,
           t.parentrelid AS parent_oid
    FROM roots AS r
        CROSS JOIN LATERAL pg_catalog.pg_partition_tree(r.index_oid) AS t
        JOIN pg_catalog.pg_index AS ix ON ix.indexrelid = t.relid
    WHERE t.level > 0
)
SELECT /* pgtune */ r.schema AS root_schema,
       r.name AS root_name,
       tn.nspname AS table_schema,
       tc.relname AS table,
       tc.relkind = 'p' AS partitioned,
       ptn.nspname AS parent_table_schema,
       ptc.relname AS parent_table,
       inn.nspname AS index_schema,
       ic.relname AS index,
       pin.nspname AS parent_index_schema,
       pic.relname AS parent_index,
       x.indisvalid AS is_valid,
       pg_catalog.pg_get_indexdef(ic.oid) AS definition,
       t.level
FROM roots AS r
    CROSS JOIN LATERAL pg_catalog.pg_partition_tree(r.table_oid) AS t
    JOIN pg_catalog.pg_class AS tc ON tc.oid = t.relid
    JOIN pg_catalog.pg_namespace AS tn ON tn.oid = tc.relnamespace
    JOIN pg_catalog.pg_class AS ptc ON ptc.oid = t.parentrelid
    JOIN pg_catalog.pg_namespace AS ptn ON ptn.oid = ptc.relnamespace
    LEFT JOIN attached AS a ON a.root_schema = r.schema AND a.root_name = r.name AND a.table_oid = t.relid
    LEFT JOIN pg_catalog.pg_class AS ic ON ic.oid = a.index_oid
    LEFT JOIN pg_catalog.pg_namespace AS inn ON inn.oid = ic.relnamespace
    LEFT JOIN pg_catalog.pg_index AS x ON x.indexrelid = a.index_oid
    LEFT JOIN pg_catalog.pg_class AS pic ON pic.oid = a.parent_oid
    LEFT JOIN pg_catalog.pg_namespace AS pin ON pin.oid = pic.relnamespace
WHERE t.level > 0
ORDER BY r.schema, r.name, t.level, tn.nspname, tc.relname;
