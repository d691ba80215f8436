-- Finds how many more client sessions the server accepts now (max_connections
-- less the reserved slots and the client sessions open) and
-- max_parallel_workers, the stand-in for its cores when it runs on another host.
SELECT /* pgtune */
       pg_catalog.current_setting('max_connections')::int
       - pg_catalog.current_setting('superuser_reserved_connections')::int
       - coalesce(pg_catalog.current_setting('reserved_connections', true)::int, 0)
       - (SELECT count(*)::int FROM pg_catalog.pg_stat_activity AS a
          WHERE a.backend_type = 'client backend') AS free,
       pg_catalog.current_setting('max_parallel_workers')::int AS parallel_workers;
