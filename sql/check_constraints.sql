-- Finds the CHECK constraints on user tables: the columns they read, whether
-- they are validated (pg_constraint.convalidated), and their definition.
SELECT /* pgtune */ n.nspname AS schema,
       c.relname AS table,
       k.conname AS name,
       k.convalidated AS validated,
       array(SELECT a.attname::text
             FROM unnest(k.conkey) AS x(attnum)
                 JOIN pg_catalog.pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = x.attnum
             ORDER BY a.attname) AS columns,
       pg_catalog.pg_get_constraintdef(k.oid) AS definition
FROM pg_catalog.pg_constraint AS k
    JOIN pg_catalog.pg_class AS c ON c.oid = k.conrelid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE k.contype = 'c'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
ORDER BY n.nspname, c.relname, k.conname;
