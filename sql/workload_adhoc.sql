-- Finds the superuser statements workload_statements.sql leaves out by default
-- (another role ran statements in the same database): per role, how many and
-- their calls, for the one line that says so. Top-level statements only: a nested one (track = all) ran
-- inside the application's own, as the owner (a foreign-key check), and workload_statements.sql keeps it.
-- Parameters: database (NULL: the current one).
WITH statements AS (
    SELECT s.calls, s.total_exec_time, r.rolname, coalesce(r.rolsuper, false) AS superuser,
           coalesce((to_jsonb(s) ->> 'toplevel')::boolean, true) AS toplevel
    FROM pg_stat_statements AS s
        JOIN pg_catalog.pg_database AS d ON d.oid = s.dbid
        LEFT JOIN pg_catalog.pg_roles AS r ON r.oid = s.userid
    WHERE d.datname = coalesce(%(database)s, current_database())
      AND strpos(s.query, '/* pgtune */') = 0
      AND NOT {utility_statement}
)
SELECT /* pgtune */ rolname AS role, count(*)::int8 AS statements, sum(calls)::int8 AS calls
FROM statements
WHERE superuser AND toplevel AND EXISTS (SELECT 1 FROM statements WHERE NOT superuser)
GROUP BY rolname
ORDER BY rolname;
