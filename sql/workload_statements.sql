-- Finds the statements of one database by total execution time, from
-- pg_stat_statements (PostgreSQL 13+ column names). pgtune's own queries are
-- tagged /* pgtune */ and left out, and so is every utility statement. A SQL-level
-- PREPARE stays: pg_stat_statements counts its EXECUTEs under its text, and
-- pgtune analyzes its body.
-- Whose statements: with roles (a text[]), those roles' only; without, every
-- role's, except a superuser's where another role ran statements too: the
-- application runs as its own role, and a superuser's statements beside it are
-- a person's (psql, a console), not the workload (see workload_adhoc.sql). A superuser's nested statement
-- (track = all) stays: the application's statements ran it as the owner (a foreign-key check, a SECURITY
-- DEFINER function's body), not a person.
-- Parameters: database (NULL: the current one), roles (NULL or text[]),
-- min_calls, min_mean_ms, min_total_ms, limit.
WITH statements AS (
    SELECT s.queryid,
           s.userid,
           s.query,
           s.calls,
           s.total_exec_time,
           s.mean_exec_time,
           s.rows,
           r.rolname,
           coalesce(r.rolsuper, false) AS superuser,
           -- run inside a function or trigger (track = all): the column is 14+, read by name from the row
           coalesce((to_jsonb(s) ->> 'toplevel')::boolean, true) AS toplevel
    FROM pg_stat_statements AS s
        JOIN pg_catalog.pg_database AS d ON d.oid = s.dbid
        LEFT JOIN pg_catalog.pg_roles AS r ON r.oid = s.userid
    WHERE d.datname = coalesce(%(database)s, current_database())
      AND strpos(s.query, '/* pgtune */') = 0
      AND NOT {utility_statement}      -- never takes a slot of --top (utility_statement.sql)
), application AS (
    SELECT EXISTS (SELECT 1 FROM statements WHERE NOT superuser) AS has_own_role
)
SELECT /* pgtune */ s.queryid,
       s.userid::int8 AS userid,       -- the role that ran it: its search_path and row security
       s.query,
       s.calls,
       s.total_exec_time AS total_ms,
       s.mean_exec_time AS mean_ms,
       s.rows,
       s.toplevel
FROM statements AS s, application AS a
WHERE CASE WHEN %(roles)s::text[] IS NOT NULL THEN s.rolname = ANY (%(roles)s::text[])
           ELSE NOT (s.superuser AND s.toplevel AND a.has_own_role) END
  AND s.calls >= %(min_calls)s
  AND s.mean_exec_time >= %(min_mean_ms)s
  AND s.total_exec_time >= %(min_total_ms)s
ORDER BY s.total_exec_time DESC, s.queryid
LIMIT %(limit)s;
