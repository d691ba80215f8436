-- Finds what one backend is waiting for, if it waits on a lock: the kind of
-- lock (a relation's, which can queue the application behind it, or another
-- transaction's virtualxid/transactionid, which blocks nobody), the relation
-- if any, and each backend it waits for (pg_blocking_pids) with what it runs.
-- Parameter: pid.
SELECT /* pgtune */ l.locktype,
       l.mode,
       CASE WHEN l.relation IS NOT NULL
            THEN (SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)
                  FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
                  WHERE c.oid = l.relation) END AS relation,
       b.pid AS holder,
       coalesce(b.state, '') AS holder_state,
       extract(epoch FROM now() - b.xact_start)::int AS holder_seconds,
       coalesce(b.query, '') AS holder_query
FROM pg_catalog.pg_locks AS l
    LEFT JOIN pg_catalog.pg_stat_activity AS b ON b.pid = ANY (pg_catalog.pg_blocking_pids(l.pid))
WHERE l.pid = %(pid)s
  AND NOT l.granted
ORDER BY b.xact_start NULLS LAST, b.pid;
