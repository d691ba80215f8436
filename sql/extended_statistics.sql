-- Finds every extended statistics object on a user table, with the columns it
-- covers (an object on expressions lists only its plain columns).
SELECT /* pgtune */ n.nspname AS schema,
       c.relname AS table,
       array(SELECT a.attname::text
             FROM unnest(s.stxkeys::int2[]) AS k(attnum)
                 JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attnum = k.attnum
             ORDER BY a.attname) AS columns,
       s.stxkind::text[] AS kinds
FROM pg_catalog.pg_statistic_ext AS s
    JOIN pg_catalog.pg_class AS c ON c.oid = s.stxrelid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY n.nspname, c.relname, s.stxname;
