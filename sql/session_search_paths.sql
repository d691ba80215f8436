-- Finds the search_path each role sets in its own sessions: the SET search_path
-- statements pg_stat_statements recorded for one database (Prisma's ?schema=,
-- an application's SET on connect), the most-called first per role. A role's
-- statements then resolve their names there, not through its configured path.
-- Parameter: database (NULL: the current one).
SELECT /* pgtune */ s.userid::int8 AS userid,
       s.query,
       s.calls
FROM pg_stat_statements AS s
    JOIN pg_catalog.pg_database AS d ON d.oid = s.dbid
WHERE d.datname = coalesce(%(database)s, pg_catalog.current_database())
  AND s.query ~* '^\s*set\s+(session\s+)?search_path\M'
ORDER BY s.userid, s.calls DESC, s.query;
