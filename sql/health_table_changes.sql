-- Finds how many rows of each user table changed since its statistics were
-- last gathered (pg_stat_user_tables.n_mod_since_analyze), beside its size
-- and when it was last analyzed, by hand or by autovacuum.
SELECT /* pgtune */ s.schemaname AS schema,
       s.relname AS table,
       s.n_mod_since_analyze AS changed,
       greatest(c.reltuples, 0)::float8 AS rows,
       greatest(s.last_analyze, s.last_autoanalyze) AS analyzed
FROM pg_catalog.pg_stat_user_tables AS s
    JOIN pg_catalog.pg_class AS c ON c.oid = s.relid
WHERE s.schemaname NOT IN ('pgtune')
ORDER BY s.schemaname, s.relname;
