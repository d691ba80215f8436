-- Finds whether named extended statistics objects exist, with their OIDs
-- (rollback drops only the one pgtune created) and definitions
-- (pg_get_statisticsobjdef: an object of that name that is not the planned
-- one is never adopted).
-- Parameters: schemas, names (parallel arrays).
SELECT /* pgtune */ n.nspname AS schema,
       s.stxname AS name,
       s.oid AS oid,
       pg_catalog.pg_get_statisticsobjdef(s.oid) AS definition
FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS w(schema, name)
    JOIN pg_catalog.pg_namespace AS n ON n.nspname = w.schema
    JOIN pg_catalog.pg_statistic_ext AS s ON s.stxnamespace = n.oid AND s.stxname = w.name
ORDER BY n.nspname, s.stxname;
