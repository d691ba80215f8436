-- Finds transactions open longer than a threshold in this database: a
-- concurrent index build must wait for every one of them to finish.
-- Parameter: seconds.
SELECT /* pgtune */ a.pid,
       a.usename AS role,
       a.state,
       extract(epoch FROM now() - a.xact_start)::int AS seconds,
       left(a.query, 120) AS query
FROM pg_catalog.pg_stat_activity AS a
WHERE a.datname = current_database()
  AND a.pid <> pg_catalog.pg_backend_pid()
  AND a.xact_start IS NOT NULL
  AND now() - a.xact_start > make_interval(secs => %(seconds)s)
ORDER BY a.xact_start;
