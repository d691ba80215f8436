-- Lists every relation name in user schemas (tables, indexes, views,
-- sequences…): they share one namespace per schema, so a proposed index must
-- pick a name none of them holds.
SELECT /* pgtune */ n.nspname AS schema, c.relname AS name
FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%'
  AND n.nspname NOT LIKE 'pg\_temp%';
