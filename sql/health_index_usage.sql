-- Finds how often each user index was scanned since the statistics were
-- reset (pg_stat_user_indexes.idx_scan), with its size and the writes its
-- table took in that time (each one maintains the index).
SELECT /* pgtune */ s.schemaname AS schema,
       s.relname AS table,
       s.indexrelname AS index,
       s.idx_scan,
       pg_catalog.pg_relation_size(s.indexrelid) AS index_bytes,
       coalesce(t.n_tup_ins + t.n_tup_upd + t.n_tup_del, 0) AS writes
FROM pg_catalog.pg_stat_user_indexes AS s
    JOIN pg_catalog.pg_stat_user_tables AS t ON t.relid = s.relid
WHERE s.schemaname NOT IN ('pgtune')
ORDER BY s.schemaname, s.relname, s.indexrelname;
