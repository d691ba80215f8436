-- Finds which of the given tables are partitioned (relkind 'p'): suggest's
-- listing must not print CREATE INDEX CONCURRENTLY for one, which PostgreSQL
-- refuses there ("cannot create index on partitioned table concurrently").
-- Parameters: schemas (text[]), tables (text[]), pairwise.
SELECT /* pgtune */ n.nspname AS schema, c.relname AS table
FROM ROWS FROM (pg_catalog.unnest(%(schemas)s::text[]), pg_catalog.unnest(%(tables)s::text[])) AS t(schema, name)
    JOIN pg_catalog.pg_namespace AS n ON n.nspname = t.schema
    JOIN pg_catalog.pg_class AS c ON c.relnamespace = n.oid AND c.relname = t.name
WHERE c.relkind = 'p';
