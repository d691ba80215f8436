-- The memory this session's backend holds in its memory contexts (caches, prepared
-- statements, HypoPG's hypothetical indexes): what analyze.pool bounds per what-if
-- session. PostgreSQL 14 on; readable by pg_read_all_stats from 15 (superusers on 14).
SELECT /* pgtune */ sum(total_bytes)::bigint AS bytes
FROM pg_catalog.pg_backend_memory_contexts;
