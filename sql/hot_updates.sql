-- Finds, for each user table, its row updates since the statistics were reset
-- (pg_stat_user_tables.n_tup_upd) and how many of them were HOT
-- (n_tup_hot_upd: no index changed, the new version on the same page), with
-- its fillfactor (HOT needs room on the page) and its number of indexes (each
-- one written by every update that is not HOT).
SELECT /* pgtune */ s.schemaname AS schema,
       s.relname AS table,
       s.n_tup_upd AS updates,
       s.n_tup_hot_upd AS hot,
       coalesce((SELECT pg_catalog.split_part(o, '=', 2)::int
                 FROM pg_catalog.unnest(c.reloptions) AS o WHERE o LIKE 'fillfactor=%%'), 100) AS fillfactor,
       (SELECT count(*) FROM pg_catalog.pg_index AS x WHERE x.indrelid = c.oid)::int AS indexes
FROM pg_catalog.pg_stat_user_tables AS s
    JOIN pg_catalog.pg_class AS c ON c.oid = s.relid
WHERE s.schemaname NOT IN ('pgtune')
ORDER BY s.schemaname, s.relname;
