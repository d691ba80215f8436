-- Finds, among functions with the given names, those a measured statement must
-- not call: VOLATILE ones (they may write) and, unless the DBA trusts them,
-- any defined outside pg_catalog (their code is not PostgreSQL's: a STABLE
-- label does not stop a function that writes through dblink).
-- Parameters: names, trust (true: only VOLATILE ones count).
SELECT /* pgtune */ DISTINCT n.nspname::text AS schema, p.proname::text AS name, p.provolatile = 'v' AS volatile
FROM pg_catalog.pg_proc AS p
    JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
WHERE p.proname = ANY(%(names)s::text[])
  AND (p.provolatile = 'v' OR (NOT %(trust)s AND n.nspname NOT IN ('pg_catalog', 'information_schema')))
ORDER BY 1, 2;
