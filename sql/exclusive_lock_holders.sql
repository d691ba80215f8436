-- Finds who holds or awaits an ACCESS EXCLUSIVE lock on a relation of this
-- database: the only lock a catalog read (ACCESS SHARE) waits for, so that
-- apply can say whom its own read waited on.
SELECT /* pgtune */ l.pid,
       l.granted,
       pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS relation,
       coalesce(a.state, '') AS state,
       extract(epoch FROM now() - a.xact_start)::int AS seconds,
       coalesce(a.query, '') AS query
FROM pg_catalog.pg_locks AS l
    JOIN pg_catalog.pg_class AS c ON c.oid = l.relation
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    LEFT JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'relation'
  AND l.mode = 'AccessExclusiveLock'
  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
  AND l.pid <> pg_catalog.pg_backend_pid()
ORDER BY l.granted DESC, a.xact_start NULLS LAST, l.pid;
