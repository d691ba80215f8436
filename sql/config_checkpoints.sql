-- Finds how many checkpoints ran because checkpoint_timeout elapsed and how
-- many were requested (WAL reached max_wal_size, or a CHECKPOINT), with the
-- buffers they wrote (pg_stat_bgwriter, before PostgreSQL 17).
SELECT /* pgtune */ b.checkpoints_timed::bigint AS timed,
       b.checkpoints_req::bigint AS requested,
       b.buffers_checkpoint::bigint AS buffers_written,
       b.checkpoint_write_time::float8 AS write_ms,
       b.stats_reset
FROM pg_catalog.pg_stat_bgwriter AS b;
