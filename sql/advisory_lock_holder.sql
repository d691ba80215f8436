-- Which other session holds pgtune's advisory lock in this database, and what it is running: a second
-- applier names whom it waits for (apply/lock.py), and status and rollback never read a phase whose
-- applier holds it as a run that died (history.died). The whole key: pg_advisory_lock(bigint) shows its
-- high 32 bits as classid, its low 32 bits as objid, and objsubid 1 (the two-int4 form's locks have
-- objsubid 2, and are someone else's).
-- Parameters: key (the lock's bigint key).
SELECT /* pgtune */ l.pid, a.query
FROM pg_catalog.pg_locks AS l
    LEFT JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'advisory'
  AND l.granted
  AND l.objsubid = 1
  AND ((l.classid::bigint << 32) | l.objid::bigint) = %(key)s
  AND l.pid <> pg_catalog.pg_backend_pid()
  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
LIMIT 1;
