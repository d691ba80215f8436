-- Finds which of the named functions have a VOLATILE variant (pg_proc.provolatile):
-- a statement calling one may change data, so verify never runs it with ANALYZE.
-- Parameter: names.
/* pgtune */
SELECT DISTINCT p.proname::text AS name
FROM pg_catalog.pg_proc AS p
WHERE p.proname = ANY(%(names)s::text[])
  AND p.provolatile = 'v'
ORDER BY 1;
