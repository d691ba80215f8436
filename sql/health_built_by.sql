-- Finds which pgtune migration built each index that exists today: the step
-- of pgtune's own history (the schema apply keeps it in, bound as {schema} by
-- psycopg.sql) that recorded the index's OID going up, created by pgtune
-- (owned), and not undone since by that migration's rollback.
SELECT /* pgtune */ n.nspname AS schema,
       c.relname AS index,
       h.migration_id,
       h.phase,
       h.finished
FROM {schema}.history AS h
    JOIN pg_catalog.pg_class AS c ON c.oid = h.object_oid AND c.relkind IN ('i', 'I')
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE h.direction = 'up'
  AND h.status = 'done'
  AND h.owned
  AND NOT EXISTS (SELECT 1 FROM {schema}.history AS d
                  WHERE d.migration_id = h.migration_id AND d.object = h.object
                    AND d.direction = 'down' AND d.status = 'done' AND d.id > h.id)
ORDER BY n.nspname, c.relname, h.id;
