-- Finds the names given to --workload-role that no role on the server has
-- (names compare exactly, as pg_stat_statements' roles are matched), so a
-- misspelled role is refused instead of silently leaving no workload.
-- Parameter: roles (text[]).
SELECT /* pgtune */ r.name
FROM unnest(%(roles)s::text[]) WITH ORDINALITY AS r(name, ord)
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS o WHERE o.rolname = r.name)
ORDER BY r.ord;
