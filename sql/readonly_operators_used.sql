-- Finds the operators a statement uses, as the server resolved them: the ones
-- the rule of its probe view (a temporary view over the statement, created and
-- rolled back by pgtune.readonly) depends on, sort and grouping operators
-- included. Parameter: view (the probe view's qualified name).
SELECT /* pgtune */ DISTINCT d.refobjid::int8 AS oid
FROM pg_catalog.pg_depend AS d
    JOIN pg_catalog.pg_rewrite AS r ON r.oid = d.objid
WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass
  AND d.refclassid = 'pg_catalog.pg_operator'::regclass
  AND r.ev_class = %(view)s::regclass
ORDER BY 1;
