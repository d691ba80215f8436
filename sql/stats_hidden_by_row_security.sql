-- Finds the tables whose planner statistics pg_stats hides from this role: pg_stats shows a table's
-- rows only where row security does not apply to the reader (PostgreSQL's view: relrowsecurity false or
-- row_security_active false), so for a role that is not the owner, not BYPASSRLS and not a superuser,
-- every table under row security looks never analyzed, whichever policies it has and whatever it was
-- granted (u13: a Papermark-shaped database, pgtune run as a non-owner role with the app role granted).
-- Only tables with statistics to hide count: analyzed (pg_statistic has rows, read through
-- pg_stat_all_tables' analyze counts, which every role may read).
-- forced: FORCE ROW LEVEL SECURITY, which binds the owner too: only a superuser or BYPASSRLS reads them (r11 F6).
SELECT /* pgtune */ pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS name,
       c.relforcerowsecurity AS forced, n.nspname AS schema, c.relname AS table_name
FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    LEFT JOIN pg_catalog.pg_stat_all_tables AS s ON s.relid = c.oid
WHERE c.relkind IN ('r', 'p', 'm')
  AND c.relrowsecurity
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
  AND pg_catalog.row_security_active(c.oid)
  AND (c.relkind = 'p' OR coalesce(s.analyze_count + s.autoanalyze_count, 0) > 0 OR c.reltuples > 0)
ORDER BY c.reltuples DESC, 1;
