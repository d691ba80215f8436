-- Finds, for each foreign key on a user table, the columns it references on
-- its parent, in key order: an UPDATE of the parent that sets one of them makes
-- the server search the referencing table, as a delete does
-- (foreign-key-without-index asks whether the workload ever does either).
SELECT /* pgtune */ n.nspname AS schema,
       t.relname AS table,
       c.conname AS name,
       array(SELECT a.attname::text
             FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.confrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS ref_columns
FROM pg_catalog.pg_constraint AS c
    JOIN pg_catalog.pg_class AS t ON t.oid = c.conrelid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = t.relnamespace
WHERE c.contype = 'f'
  AND c.conparentid = 0
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
ORDER BY n.nspname, t.relname, c.conname;
