-- Finds the tables of the current database with updates that a function's source names beside an UPDATE,
-- MERGE or ON CONFLICT (a trigger keeping a counter row): its updates, which pg_stat_statements.track = top
-- never counts, may be the workload's. A name found inside a longer word counts too: a fillfactor judged on
-- the counters, as where pg_stat_statements is not read.
SELECT /* pgtune */ n.nspname AS schema,
       c.relname AS table
FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_stat_user_tables AS s ON s.relid = c.oid
WHERE s.n_tup_upd > 0
  AND EXISTS (SELECT 1
              FROM pg_catalog.pg_proc AS p
                  JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang
              WHERE l.lanname NOT IN ('internal', 'c')
                AND p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
                AND p.prosrc ~* '\m(update|merge|on\s+conflict)\M'
                AND pg_catalog.strpos(lower(p.prosrc), lower(c.relname)) > 0)
ORDER BY 1, 2;
