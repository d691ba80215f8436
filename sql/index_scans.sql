-- Finds the scans the server counts on indexes, by schema and name (pg_stat_user_indexes.idx_scan: since the
-- index was built, or the statistics' last reset). An index on a partitioned table has none of its own.
-- Parameters: schemas, names (text[] each, one pair per index).
SELECT /* pgtune */ s.schemaname AS schema, s.indexrelname AS name, s.idx_scan AS scans
FROM pg_catalog.pg_stat_user_indexes AS s
    JOIN unnest(%(schemas)s::text[], %(names)s::text[]) AS w (schema, name)
        ON w.schema = s.schemaname AND w.name = s.indexrelname;
