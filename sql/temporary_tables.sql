-- Finds the names of the temporary tables that exist now, in any session's
-- pg_temp schema: statements on them are the application's own scratch work
-- (an index on one is the application's to create, per session).
SELECT /* pgtune */ DISTINCT c.relname AS name
FROM pg_catalog.pg_class AS c
WHERE c.relpersistence = 't'
  AND c.relkind IN ('r', 'p')
ORDER BY c.relname;
