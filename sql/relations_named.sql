-- The relations a statement's table name can stand for (tables, partitioned tables, views, materialized
-- views, foreign tables) in the schemas a workload's statements read, as schema and name: suggest --exclude
-- checks that each name it is given names one, and offers the nearest when one names none (a typo).
SELECT /* pgtune */ n.nspname AS schema, c.relname AS name
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_)';
