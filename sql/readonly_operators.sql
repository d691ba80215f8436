-- Finds, among the operators a statement uses, those whose function a measured
-- statement must not call (an operator is a function call in disguise): a
-- VOLATILE one, or, unless the DBA trusts user code, one outside pg_catalog
-- that no installed extension provides. The operators are the ones the server
-- resolved (oids: what the statement's probe view depends on), or, when it
-- could not tell (oids NULL), every operator of the symbols the text names;
-- names NULL too: every operator (does the database have one it refuses?).
-- An extension's non-VOLATILE operator passes: measuring runs the statement
-- READ ONLY and rolls it back, and this guard is against functions with side
-- effects the transaction does not stop (a STABLE label over dblink), which is
-- application code, not a packaged comparison such as citext's = or hstore's ?.
-- Parameters: oids (oid[] or NULL), names, trust.
SELECT /* pgtune */ DISTINCT o.oprname::text AS operator, n.nspname::text AS schema, p.proname::text AS function
FROM pg_catalog.pg_operator AS o
    JOIN pg_catalog.pg_proc AS p ON p.oid = o.oprcode
    JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
WHERE CASE WHEN %(oids)s::oid[] IS NOT NULL THEN o.oid = ANY(%(oids)s::oid[])
           WHEN %(names)s::text[] IS NOT NULL THEN o.oprname = ANY(%(names)s::text[])
           ELSE true END
  AND (p.provolatile = 'v'
       OR (NOT %(trust)s AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d
                           WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid
                             AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e')))
ORDER BY 1, 2, 3;
