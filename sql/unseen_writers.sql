-- Finds the text of the user functions that may write a table: a trigger's or
-- a function's INSERT, UPDATE, DELETE, MERGE or COPY runs nested, and with
-- pg_stat_statements.track = top (the default) pg_stat_statements does not
-- list it. Nothing when track = all (nested statements are listed).
-- Extensions' functions are left out (pg_depend 'e'), as are C and internal
-- ones. The caller finds the table names in the text (one pass over it, not a
-- search per table and function: 2,000 of each took 22 s of the server's CPU).
SELECT /* pgtune */ pg_catalog.lower(p.prosrc) AS source
FROM pg_catalog.pg_proc AS p
    JOIN pg_catalog.pg_namespace AS pn ON pn.oid = p.pronamespace
    JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang
WHERE pn.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
  AND l.lanname NOT IN ('c', 'internal')
  -- the value sessions start with, not this session's: pgtune turns tracking off for its own (p19)
  AND coalesce((SELECT s.reset_val FROM pg_catalog.pg_settings AS s
                WHERE s.name = 'pg_stat_statements.track'), 'top') <> 'all'
  AND p.prosrc ~* '\m(insert|update|delete|merge|copy)\M'
  AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend AS d
                  WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid
                    AND d.deptype = 'e');
