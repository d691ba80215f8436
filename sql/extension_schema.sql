-- Finds the schema an extension is installed in (pg_extension.extnamespace),
-- so its functions can be called schema-qualified. Parameter: %(name)s.
SELECT /* pgtune */ n.nspname AS schema
FROM pg_catalog.pg_extension AS e
    JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
WHERE e.extname = %(name)s;
