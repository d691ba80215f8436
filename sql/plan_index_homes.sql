-- Finds the schema and table of every index with one of the names a plan gave (EXPLAIN names an index
-- without its schema): a schema per tenant holds indexes of the same name, each on its own tenant's table.
SELECT /* pgtune */ n.nspname AS schema, i.relname AS index, t.relname AS table
FROM pg_catalog.pg_index AS x
    JOIN pg_catalog.pg_class AS i ON i.oid = x.indexrelid
    JOIN pg_catalog.pg_class AS t ON t.oid = x.indrelid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = i.relnamespace
WHERE i.relname = ANY (%(names)s::text[])
ORDER BY 1, 2;
