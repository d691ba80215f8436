-- Finds how many checkpoints ran because checkpoint_timeout elapsed and how
-- many were requested (WAL reached max_wal_size, or a CHECKPOINT), with the
-- buffers they wrote (pg_stat_checkpointer, PostgreSQL 17+).
SELECT /* pgtune */ c.num_timed::bigint AS timed,
       c.num_requested::bigint AS requested,
       c.buffers_written::bigint AS buffers_written,
       c.write_time::float8 AS write_ms,
       c.stats_reset
FROM pg_catalog.pg_stat_checkpointer AS c;
