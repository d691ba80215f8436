-- Finds transactions open longer than a threshold in this database that a
-- concurrent index build waits for: every one holding a snapshot, and a
-- writer (a build on a table it wrote waits for it). A reader idle in a READ
-- COMMITTED transaction holds neither and delays no build.
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
  AND (a.backend_xmin IS NOT NULL OR a.backend_xid IS NOT NULL)
ORDER BY a.xact_start;
