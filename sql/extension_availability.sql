-- Finds, for the named extensions, whether the server has them
-- (pg_available_extensions), whether and where this database has them
-- installed, and whether the current role may create them: a superuser may;
-- another role may create a trusted extension (PostgreSQL 13 and later) where
-- it has CREATE on the database.
-- Parameters: names.
SELECT /* pgtune */ a.name,
       a.installed_version,
       n.nspname AS schema,
       coalesce(r.rolsuper, false)
           OR (coalesce(v.trusted, false)
               AND pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE')) AS creatable
FROM pg_catalog.pg_available_extensions AS a
    LEFT JOIN pg_catalog.pg_extension AS e ON e.extname = a.name
    LEFT JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
    LEFT JOIN pg_catalog.pg_available_extension_versions AS v ON v.name = a.name AND v.version = a.default_version
    LEFT JOIN pg_catalog.pg_roles AS r ON r.rolname = current_user
WHERE a.name = ANY(%(names)s::text[])
ORDER BY a.name;
