-- Finds how many times pg_stat_statements dropped its least-used entries
-- because pg_stat_statements.max was reached (pg_stat_statements_info, 1.9+).
SELECT /* pgtune */ i.dealloc::bigint AS dealloc, i.stats_reset
FROM pg_stat_statements_info AS i;
