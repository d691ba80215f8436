-- Finds the foreign tables of user schemas with the server they read from: a
-- statement on one is said to be so (no index can be built on a foreign
-- table; its filter runs where its rows are), not "no known table".
SELECT /* pgtune */ n.nspname AS schema,
       c.relname AS name,
       s.srvname AS server
FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_foreign_table AS f ON f.ftrelid = c.oid
    JOIN pg_catalog.pg_foreign_server AS s ON s.oid = f.ftserver
WHERE c.relkind = 'f'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_%'
ORDER BY n.nspname, c.relname;
