-- Resolves one relation a measured statement reads, the way the server would
-- (search_path included): its kind, whether row-level security applies, and a
-- view's definition, which pgtune inspects like the statement itself.
-- Parameter: name (a quoted, possibly schema-qualified name).
SELECT /* pgtune */ c.relkind::text AS kind,
       c.relrowsecurity AS row_security,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END AS definition
FROM pg_catalog.pg_class AS c
WHERE c.oid = pg_catalog.to_regclass(%(name)s);
