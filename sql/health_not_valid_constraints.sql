-- Finds CHECK, foreign-key and (PostgreSQL 18) NOT NULL constraints left NOT
-- VALID (pg_constraint.convalidated false): the server enforces them on new
-- rows only, and the planner cannot rely on them (a NOT VALID NOT NULL still
-- sets pg_attribute.attnotnull, though old rows may hold NULLs). Once per constraint: a
-- partition's copy of its partitioned table's constraint (inherited, or a
-- foreign key's clone) is validated by the VALIDATE of the original.
SELECT /* pgtune */ n.nspname AS schema,
       t.relname AS table,
       c.conname AS name,
       c.contype AS kind,
       pg_catalog.pg_get_constraintdef(c.oid) AS definition
FROM pg_catalog.pg_constraint AS c
    JOIN pg_catalog.pg_class AS t ON t.oid = c.conrelid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = t.relnamespace
WHERE NOT c.convalidated
  AND c.contype IN ('c', 'f', 'n')
  AND c.coninhcount = 0
  AND c.conparentid = 0
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
ORDER BY n.nspname, t.relname, c.conname;
