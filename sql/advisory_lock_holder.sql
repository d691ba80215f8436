-- Who holds pgtune's advisory lock in this database, and what it is running,
-- so that a second applier can say whom it waits for.
-- Parameters: objid (the lock key's low 32 bits).
SELECT /* pgtune */ l.pid, a.query
FROM pg_catalog.pg_locks AS l
    LEFT JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'advisory'
  AND l.granted
  AND l.objid = %(objid)s
  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
LIMIT 1;
