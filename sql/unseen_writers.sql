-- Finds the tables a user function names: a trigger's or a function's INSERT,
-- UPDATE or DELETE runs nested, and with pg_stat_statements.track = top (the
-- default) pg_stat_statements does not list it, so the workload's own writes
-- cannot account for that table's. Nothing when track = all (nested statements
-- are listed). A name found in a function's text is enough: a table wrongly
-- named here keeps the charge its counters give, as before the window cap.
-- Extensions' functions are left out (pg_depend 'e'), as are C and internal ones.
SELECT /* pgtune */ n.nspname AS schema, c.relname AS table
FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
  AND n.nspname NOT LIKE 'pg\_toast%' ESCAPE '\'
  AND coalesce(pg_catalog.current_setting('pg_stat_statements.track', true), 'top') <> 'all'
  AND EXISTS (
      SELECT FROM pg_catalog.pg_proc AS p
          JOIN pg_catalog.pg_namespace AS pn ON pn.oid = p.pronamespace
          JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang
      WHERE pn.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
        AND l.lanname NOT IN ('c', 'internal')
        AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend AS d
                        WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid
                          AND d.deptype = 'e')
        AND pg_catalog.strpos(pg_catalog.lower(p.prosrc), pg_catalog.lower(c.relname)) > 0)
ORDER BY 1, 2;
