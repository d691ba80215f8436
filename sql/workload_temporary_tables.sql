-- Finds the statements of one database that create a temporary table
-- (CREATE TEMP TABLE, CREATE TEMPORARY TABLE … AS, SELECT … INTO TEMP), from
-- pg_stat_statements, whose utility texts are kept as written: their tables
-- are gone when pgtune runs, and statements on them are not index-tunable.
-- Parameter: database (NULL: the current one).
SELECT /* pgtune */ s.query
FROM pg_stat_statements AS s
    JOIN pg_catalog.pg_database AS d ON d.oid = s.dbid
WHERE d.datname = coalesce(%(database)s, current_database())
  AND s.query ~* '\m(temp|temporary)\M'
ORDER BY s.queryid;
