-- Finds the transactions a concurrent index build, REINDEX or drop on one
-- table will wait for: every other transaction of this database that holds a
-- lock on the table (the first phases wait for each of those) or, with
-- `snapshots`, a snapshot (backend_xmin: the last phase waits for every
-- transaction whose snapshot is older than its own, on any table). Vacuum and
-- autovacuum workers are not waited for. With `share`, only a lock that
-- conflicts with SHARE counts: CREATE INDEX CONCURRENTLY waits for those alone
-- (and CREATE INDEX ON ONLY asks for SHARE), so a reader idle in a READ
-- COMMITTED transaction, which holds ACCESS SHARE and no snapshot, is in
-- nobody's way; DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY and the ACCESS
-- EXCLUSIVE steps wait for every lock.
-- Two ages: a snapshot, or a lock the statement's own SHARE UPDATE EXCLUSIVE
-- does not wait behind (ACCESS SHARE, ROW SHARE, ROW EXCLUSIVE), is waited for
-- after the statement has begun (an INVALID index is left if it is cancelled):
-- counted once open `young` seconds. Any other lock makes the statement wait
-- for the lock itself, before it has made anything (bounded by lock_timeout):
-- counted once open `seconds`.
-- Parameters: schema, table, seconds, young, snapshots (boolean), exclude
-- (pids), share (boolean).
SELECT /* pgtune */ a.pid,
       a.usename AS role,
       coalesce(a.state, '') AS state,
       a.xact_start,
       extract(epoch FROM now() - a.xact_start)::int AS seconds,
       coalesce(a.query, '') AS query
FROM pg_catalog.pg_stat_activity AS a
WHERE a.datname = current_database()
  AND a.pid <> pg_catalog.pg_backend_pid()
  AND a.pid <> ALL (%(exclude)s::int[])
  AND a.backend_type = 'client backend'
  AND a.xact_start IS NOT NULL
  AND ((%(snapshots)s AND a.backend_xmin IS NOT NULL AND now() - a.xact_start > make_interval(secs => %(young)s))
       OR EXISTS (SELECT 1
                  FROM pg_catalog.pg_locks AS l
                      JOIN pg_catalog.pg_class AS c ON c.oid = l.relation
                      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
                  WHERE l.pid = a.pid AND l.locktype = 'relation'
                    AND n.nspname = %(schema)s AND c.relname = %(table)s
                    AND NOT (%(share)s AND l.mode IN ('AccessShareLock', 'RowShareLock', 'ShareLock'))
                    AND now() - a.xact_start > make_interval(secs => CASE
                        WHEN l.mode IN ('AccessShareLock', 'RowShareLock', 'RowExclusiveLock') THEN %(young)s
                        ELSE %(seconds)s END)))
ORDER BY a.xact_start, a.pid;
