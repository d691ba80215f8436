-- Finds the views of user schemas with their definitions, so that a filter
-- on a view's column can be bound to the base column behind it.
SELECT /* pgtune */ n.nspname AS schema,
       c.relname AS name,
       pg_catalog.pg_get_viewdef(c.oid) AS definition
FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind = 'v'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
  AND n.nspname NOT LIKE 'pg\_%'
ORDER BY n.nspname, c.relname;
