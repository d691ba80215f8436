-- Finds, among the types a measured statement casts to, those defined outside
-- pg_catalog: a domain's CHECK or a type's input function is user code.
-- Parameter: names.
SELECT /* pgtune */ DISTINCT n.nspname::text AS schema, t.typname::text AS name
FROM pg_catalog.pg_type AS t
    JOIN pg_catalog.pg_namespace AS n ON n.oid = t.typnamespace
WHERE t.typname = ANY(%(names)s::text[])
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2;
