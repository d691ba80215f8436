-- Finds the ledger tables of migration tools (Prisma Migrate's _prisma_migrations,
-- Flyway's flyway_schema_history, golang-migrate's schema_migrations): where one
-- exists, the application's own migrations made the schema, and own its indexes.
SELECT /* pgtune */ n.nspname AS schema,
       c.relname AS ledger
FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND c.relname IN ('_prisma_migrations', 'flyway_schema_history', 'schema_migrations')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
ORDER BY c.relname, n.nspname;
