-- Finds the client sessions now, per role and state (active, idle, idle in
-- transaction), with the longest time a session of that state has been in
-- it and the youngest session's age; pgtune's own session is left out.
SELECT /* pgtune */ coalesce(a.usename, '') AS role,
       coalesce(a.state, 'unknown') AS state,
       count(*)::bigint AS sessions,
       coalesce(max(extract(epoch FROM pg_catalog.now() - a.state_change)), 0)::float8 AS longest_s,
       coalesce(min(extract(epoch FROM pg_catalog.now() - a.backend_start)), 0)::float8 AS youngest_s
FROM pg_catalog.pg_stat_activity AS a
WHERE a.backend_type = 'client backend'
  AND a.pid <> pg_catalog.pg_backend_pid()
GROUP BY 1, 2
ORDER BY 1, 2;
