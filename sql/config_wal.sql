-- Finds the WAL the server has written: bytes, records, full-page images, and
-- how often a backend found the WAL buffers full (pg_stat_wal, PostgreSQL 14+).
SELECT /* pgtune */ w.wal_bytes::bigint AS bytes,
       w.wal_records::bigint AS records,
       w.wal_fpi::bigint AS full_page_images,
       w.wal_buffers_full::bigint AS buffers_full,
       w.stats_reset
FROM pg_catalog.pg_stat_wal AS w;
