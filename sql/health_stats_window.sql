-- Finds how long this database's statistics have been counting: since their
-- last reset (pg_stat_database.stats_reset), or, never reset, at least since
-- the server started.
SELECT /* pgtune */ coalesce(d.stats_reset, pg_catalog.pg_postmaster_start_time()) AS since,
       extract(epoch FROM now() - coalesce(d.stats_reset, pg_catalog.pg_postmaster_start_time()))::float8
           AS seconds
FROM pg_catalog.pg_stat_database AS d
WHERE d.datname = pg_catalog.current_database();
