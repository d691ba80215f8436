-- Finds how many times pg_stat_statements dropped its least-used entries
-- because pg_stat_statements.max was reached (pg_stat_statements_info, 1.9+,
-- schema-qualified by the caller), and how many statements it holds now
-- (every database).
SELECT /* pgtune */ i.dealloc::bigint AS dealloc, i.stats_reset,
       (SELECT count(*)::int FROM {statements}(false) AS s) AS entries
FROM {info} AS i;
