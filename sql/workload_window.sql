-- Finds how long pg_stat_statements and the table statistics have been
-- counting, so that write counts (pg_stat_user_tables) can be scaled to the
-- same window as the statement counts before they are compared.
SELECT /* pgtune */ extract(epoch FROM now() - coalesce(
           (SELECT i.stats_reset FROM pg_stat_statements_info AS i),
           pg_catalog.pg_postmaster_start_time()))::float8 AS workload_seconds,
       extract(epoch FROM now() - coalesce(
           (SELECT d.stats_reset FROM pg_catalog.pg_stat_database AS d WHERE d.datname = current_database()),
           pg_catalog.pg_postmaster_start_time()))::float8 AS table_stats_seconds;
