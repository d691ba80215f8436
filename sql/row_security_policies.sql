-- Finds the tables under row security (relrowsecurity) and their policies:
-- the command each applies to (r SELECT, a INSERT, w UPDATE, d DELETE, * all),
-- permissive or restrictive, the roles it applies to (0: PUBLIC), its USING
-- expression (a filter of every statement on the table), and whether the
-- table's owner is bound too (FORCE ROW LEVEL SECURITY). A table with no
-- policy has one row with NULL policy columns: it shows no row to its readers.
SELECT /* pgtune */ n.nspname AS schema,
       c.relname AS table,
       c.relforcerowsecurity AS force,
       c.relowner::int8 AS owner,
       p.polname AS name,
       p.polcmd::text AS command,
       p.polpermissive AS permissive,
       p.polroles::int8[] AS roles,
       pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS using_expr
FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    LEFT JOIN pg_catalog.pg_policy AS p ON p.polrelid = c.oid
WHERE c.relrowsecurity
  AND c.relkind IN ('r', 'p')
ORDER BY n.nspname, c.relname, p.polname;
