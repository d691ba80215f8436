-- Finds client sessions whose application_name names a connection pooler
-- (PgBouncer, pgcat, Odyssey, Pgpool-II, Supavisor, RDS Proxy): a pooler in front
-- holds the server's connections, so max_connections is sized to its pools.
SELECT /* pgtune */ a.application_name, count(*)::int AS sessions
FROM pg_catalog.pg_stat_activity AS a
WHERE a.backend_type = 'client backend'
  AND a.application_name ~* '(pgbouncer|pgcat|odyssey|pgpool|supavisor|rds.?proxy)'
GROUP BY a.application_name
ORDER BY a.application_name;
