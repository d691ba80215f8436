-- Finds the statements of one database in pg_stat_statements that write rows
-- (INSERT, UPDATE, DELETE, MERGE, COPY … FROM), with the rows they wrote and
-- the role that ran them (its search_path resolves their table): the writes
-- inside pg_stat_statements' own window, which the tables' cumulative counters
-- cannot tell apart from a load or restore before it. pgtune's own
-- statements are left out.
-- Parameters: database (NULL: the current one), limit; {statements} is the
-- view, qualified with the extension's schema.
SELECT /* pgtune */ s.userid::int8 AS userid,
       s.query,
       s.rows
FROM {statements} AS s
    JOIN pg_catalog.pg_database AS d ON d.oid = s.dbid
WHERE d.datname = coalesce(%(database)s, current_database())
  AND strpos(s.query, '/* pgtune */') = 0
  AND s.rows > 0
  AND s.query ~* ({statement_start} || '(with\M.*\m(insert|update|delete|merge)|insert|update|delete|merge|copy)\M')
ORDER BY s.rows DESC, s.queryid
LIMIT %(limit)s;
