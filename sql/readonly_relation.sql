-- Resolves one relation a measured statement reads, the way the server would
-- (search_path included): its kind, whether row-level security applies, and a
-- view's definition, which pgtune inspects like the statement itself, and the
-- USING expressions of the policies a SELECT runs (FOR SELECT or ALL), by name,
-- which a statement timed as the application's role runs too.
-- Parameter: name (a quoted, possibly schema-qualified name).
SELECT /* pgtune */ c.relkind::text AS kind,
       c.relrowsecurity AS row_security,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END AS definition,
       ARRAY(SELECT pg_catalog.jsonb_build_array(p.polname::text, pg_catalog.pg_get_expr(p.polqual, p.polrelid))
             FROM pg_catalog.pg_policy AS p
             WHERE p.polrelid = c.oid AND p.polcmd IN ('r', '*') AND p.polqual IS NOT NULL
             ORDER BY p.polname) AS policies
FROM pg_catalog.pg_class AS c
WHERE c.oid = pg_catalog.to_regclass(%(name)s);
