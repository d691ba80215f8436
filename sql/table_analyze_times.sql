-- Finds when tables were last analyzed (manually or by autovacuum).
-- Parameters: schemas, tables (parallel arrays).
SELECT /* pgtune */ w.schema,
       w.table,
       greatest(st.last_analyze, st.last_autoanalyze) AS analyzed
FROM unnest(%(schemas)s::text[], %(tables)s::text[]) AS w(schema, "table")
    JOIN pg_catalog.pg_stat_user_tables AS st ON st.schemaname = w.schema AND st.relname = w.table
ORDER BY 1, 2;
