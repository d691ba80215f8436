-- Finds, among operators with the given symbols, those whose function a
-- measured statement must not call (VOLATILE, or outside pg_catalog unless
-- trusted): an operator is a function call in disguise.
-- Parameters: names, trust.
SELECT /* pgtune */ DISTINCT o.oprname::text AS operator, n.nspname::text AS schema, p.proname::text AS function
FROM pg_catalog.pg_operator AS o
    JOIN pg_catalog.pg_proc AS p ON p.oid = o.oprcode
    JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
WHERE o.oprname = ANY(%(names)s::text[])
  AND (p.provolatile = 'v' OR (NOT %(trust)s AND n.nspname NOT IN ('pg_catalog', 'information_schema')))
ORDER BY 1, 2, 3;
