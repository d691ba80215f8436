-- Finds which of the extensions pgtune uses the server could load
-- (pg_available_extensions: installed on the server's disk, not necessarily
-- created in a database).
SELECT /* pgtune */ e.name
FROM pg_catalog.pg_available_extensions AS e
WHERE e.name IN ('pg_stat_statements', 'pg_qualstats', 'hypopg')
ORDER BY e.name;
