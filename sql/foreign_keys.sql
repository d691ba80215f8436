-- Finds the foreign keys on user tables, with referencing and referenced
-- columns in key order and the ON DELETE action (cascades make an index on
-- them urgent; an UPDATE of the parent that sets a referenced column makes the
-- server search the referencing table, as a delete does).
-- Each foreign key once: PostgreSQL copies a partitioned table's key onto every
-- partition, and a key into a partitioned table onto the referencing table once
-- per partition (…_fkey1, …_fkey2); those copies name their origin in
-- pg_constraint.conparentid and are left out.
SELECT /* pgtune */ n.nspname AS schema,
       t.relname AS table,
       c.conname AS name,
       array(SELECT a.attname::text
             FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns,
       array(SELECT a.attname::text
             FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.confrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS ref_columns,
       rn.nspname AS ref_schema,
       rt.relname AS ref_table,
       c.confdeltype AS on_delete
FROM pg_catalog.pg_constraint AS c
    JOIN pg_catalog.pg_class AS t ON t.oid = c.conrelid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = t.relnamespace
    JOIN pg_catalog.pg_class AS rt ON rt.oid = c.confrelid
    JOIN pg_catalog.pg_namespace AS rn ON rn.oid = rt.relnamespace
WHERE c.contype = 'f'
  AND c.conparentid = 0
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
ORDER BY n.nspname, t.relname, c.conname;
