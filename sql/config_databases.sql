-- Finds the cluster's database counters summed over its databases: temporary
-- files and bytes, buffer hits and reads, transactions, sessions and their
-- total time (PostgreSQL 14+), with the server's clock, its start and the
-- oldest statistics reset, and the size of the databases one may connect to.
SELECT /* pgtune */ pg_catalog.now() AS taken_at,
       pg_catalog.pg_postmaster_start_time() AS started_at,
       min(d.stats_reset) AS stats_reset,
       coalesce(sum(d.temp_files), 0)::bigint AS temp_files,
       coalesce(sum(d.temp_bytes), 0)::bigint AS temp_bytes,
       coalesce(sum(d.blks_read), 0)::bigint AS blks_read,
       coalesce(sum(d.blks_hit), 0)::bigint AS blks_hit,
       coalesce(sum(d.xact_commit + d.xact_rollback), 0)::bigint AS transactions,
       coalesce(sum(d.sessions), 0)::bigint AS sessions,
       coalesce(sum(d.session_time), 0)::float8 AS session_ms,
       (SELECT coalesce(sum(pg_catalog.pg_database_size(b.oid)), 0)::bigint
        FROM pg_catalog.pg_database AS b
        WHERE b.datallowconn
          AND pg_catalog.has_database_privilege(b.oid, 'CONNECT')) AS database_bytes
FROM pg_catalog.pg_stat_database AS d
WHERE d.datid <> 0;
