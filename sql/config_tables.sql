-- Finds, per table of the current database, its live and dead tuples, its
-- inserts, updates (HOT or not) and deletes, its vacuums, its sequential scans
-- and the heap blocks it read from outside shared_buffers, its size and its
-- storage parameters (reloptions). Before PostgreSQL 16 no column tells an
-- update that left its page: n_tup_newpage_upd is NULL here.
SELECT /* pgtune */ s.schemaname AS schema,
       s.relname AS table,
       s.n_live_tup::bigint AS live,
       s.n_dead_tup::bigint AS dead,
       s.n_tup_ins::bigint AS inserts,
       s.n_tup_upd::bigint AS updates,
       s.n_tup_hot_upd::bigint AS hot_updates,
       NULL::bigint AS newpage_updates,
       s.n_tup_del::bigint AS deletes,
       s.n_mod_since_analyze::bigint AS modified_since_analyze,
       s.n_ins_since_vacuum::bigint AS inserted_since_vacuum,
       (s.vacuum_count + s.autovacuum_count)::bigint AS vacuums,
       s.autovacuum_count::bigint AS autovacuums,
       coalesce(s.seq_scan, 0)::bigint AS seq_scans,
       coalesce(io.heap_blks_read, 0)::bigint AS heap_blks_read,
       greatest(s.last_vacuum, s.last_autovacuum) AS vacuumed_at,
       greatest(c.reltuples, 0)::float8 AS reltuples,
       pg_catalog.pg_relation_size(c.oid)::bigint AS bytes,
       coalesce(c.reloptions, '{}') AS reloptions
FROM pg_catalog.pg_stat_user_tables AS s
    JOIN pg_catalog.pg_class AS c ON c.oid = s.relid
    LEFT JOIN pg_catalog.pg_statio_user_tables AS io ON io.relid = s.relid
WHERE s.schemaname NOT IN ('pgtune')
  AND c.relkind IN ('r', 'm')
ORDER BY s.schemaname, s.relname;
