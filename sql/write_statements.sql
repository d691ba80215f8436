-- Finds the statements of one database in pg_stat_statements that write rows
-- (INSERT, UPDATE, DELETE, MERGE, COPY … FROM), with the rows they wrote and
-- the role that ran them (its search_path resolves their table): the writes
-- inside pg_stat_statements' own window, which the tables' cumulative counters
-- cannot tell apart from a load or restore before it. pgtune's own
-- statements are left out, and so, without roles, are a superuser's where
-- another role ran statements too: workload_statements.sql leaves its reads out
-- as a person's (a one-off load in psql), so its writes are no upkeep of the
-- application's either (its nested ones stay, as there: a foreign key's cascade run
-- as the owner). With roles, every role's writes count: a role that only
-- writes still maintains the indexes.
-- Parameters: database (NULL: the current one), roles (NULL or text[]), limit;
-- {statements} is the view, qualified with the extension's schema.
WITH statements AS (
    SELECT s.queryid, s.userid, s.query, s.rows, coalesce(r.rolsuper, false) AS superuser,
           coalesce((to_jsonb(s) ->> 'toplevel')::boolean, true) AS toplevel
    FROM {statements} AS s
        JOIN pg_catalog.pg_database AS d ON d.oid = s.dbid
        LEFT JOIN pg_catalog.pg_roles AS r ON r.oid = s.userid
    WHERE d.datname = coalesce(%(database)s, current_database())
      AND strpos(s.query, '/* pgtune */') = 0
), application AS (    -- as workload_statements.sql decides it
    SELECT EXISTS (SELECT 1 FROM statements AS s WHERE NOT s.superuser AND NOT {utility_statement}) AS has_own_role
)
SELECT /* pgtune */ s.userid::int8 AS userid,
       s.queryid::int8 AS queryid,
       s.query,
       s.rows
FROM statements AS s, application AS a
WHERE (%(roles)s::text[] IS NOT NULL OR NOT (s.superuser AND s.toplevel AND a.has_own_role))
  AND s.rows > 0
  AND s.query ~* ({statement_start} || '(with\M.*\m(insert|update|delete|merge)|insert|update|delete|merge|copy)\M')
ORDER BY s.rows DESC, s.queryid
LIMIT %(limit)s;
