-- Finds how long ago each index was created, where the server can tell: the
-- commit time of the transaction that wrote its pg_class row. Needs
-- track_commit_timestamp = on (pgtune reads this file only then). A REINDEX
-- writes a new row, so the age counts from the last rebuild: never too old.
-- NULL where the commit time is no longer kept (older than the oldest kept
-- timestamp, or a frozen row): such an index is old.
SELECT /* pgtune */ n.nspname AS schema,
       i.relname AS index,
       extract(epoch FROM now() - pg_catalog.pg_xact_commit_timestamp(i.xmin))::float8 AS seconds
FROM pg_catalog.pg_class AS i
    JOIN pg_catalog.pg_namespace AS n ON n.oid = i.relnamespace
WHERE i.relkind IN ('i', 'I')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
  AND n.nspname NOT LIKE 'pg\_%';
