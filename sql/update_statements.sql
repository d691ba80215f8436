-- Finds the UPDATE statements of one database in pg_stat_statements, with the
-- rows they changed (pg_stat_statements.rows) and the role that ran them (its
-- search_path resolves their table): which columns the workload's updates
-- set, and how often. pgtune's own statements are left out.
-- Parameters: database (NULL: the current one), limit; {statements} is the
-- view, qualified with the extension's schema.
SELECT /* pgtune */ s.queryid,
       s.userid::int8 AS userid,
       s.query,
       s.calls,
       s.rows
FROM {statements} AS s
    JOIN pg_catalog.pg_database AS d ON d.oid = s.dbid
WHERE d.datname = coalesce(%(database)s, current_database())
  AND strpos(s.query, '/* pgtune */') = 0
  AND s.query ~* ({statement_start} || '(with\M.*\mupdate|update)\M')
ORDER BY s.rows DESC, s.calls DESC, s.queryid
LIMIT %(limit)s;
