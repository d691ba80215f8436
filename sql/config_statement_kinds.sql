-- Finds every statement of the current database with its role, calls, total
-- execution time, the WAL it wrote, whether it is maintenance or DDL (CREATE
-- INDEX, COPY, VACUUM, ALTER…: a load or a build, not the application's
-- steady writes), the length of its text, and its kind: a query (SELECT, WITH, INSERT, UPDATE,
-- DELETE, MERGE, VALUES, TABLE), or one of the session-level features a
-- transaction-mode pooler does not carry from one transaction to the next
-- (SET or RESET outside SET LOCAL, PREPARE/EXECUTE/
-- DEALLOCATE, session advisory locks, LISTEN, temporary tables, WITH HOLD
-- cursors), or DISCARD ALL (a session pooler's reset), else other. The text
-- is returned only for the features (an example a person can look up).
-- The view is the caller's schema-qualified pg_stat_statements.
SELECT /* pgtune */ s.queryid,
       coalesce(r.rolname, '') AS role,
       s.calls::bigint AS calls,
       s.total_exec_time::float8 AS total_ms,
       s.wal_bytes::float8 AS wal_bytes,
       s.query ~* '^\s*(create|alter|drop|reindex|cluster|vacuum|analyze|refresh|copy|truncate)\M' AS maintenance,
       pg_catalog.octet_length(s.query) AS text_bytes,
       k.kind,
       CASE WHEN k.kind IN ('query', 'other') THEN NULL ELSE pg_catalog.left(s.query, 200) END AS example
FROM {statements} AS s
    JOIN pg_catalog.pg_database AS d ON d.oid = s.dbid
    LEFT JOIN pg_catalog.pg_roles AS r ON r.oid = s.userid
    CROSS JOIN LATERAL (SELECT CASE
        WHEN s.query ~* '^\s*(\(\s*)*(select|with|insert|update|delete|merge|values|table)\M'
             AND s.query ~* 'pg_(try_)?advisory_lock(_shared)?\s*\(' THEN 'advisory-lock'
        WHEN s.query ~* '^\s*(\(\s*)*(select|with|insert|update|delete|merge|values|table)\M' THEN 'query'
        WHEN s.query ~* '^\s*(set|reset)\M' AND s.query !~* '^\s*set\s+(local|transaction|constraints)\M'
             THEN 'set'
        WHEN s.query ~* '^\s*(prepare|execute|deallocate)\M' THEN 'prepare'
        WHEN s.query ~* '^\s*(listen|unlisten)\M' THEN 'listen'
        WHEN s.query ~* '^\s*create\s+((global|local)\s+)?temp(orary)?\s+table\M' THEN 'temporary-table'
        WHEN s.query ~* '^\s*declare\M' AND s.query ~* '\mwith\s+hold\M' THEN 'hold-cursor'
        WHEN s.query ~* '^\s*discard\s+all\M' THEN 'discard-all'
        ELSE 'other' END AS kind) AS k
WHERE d.datname = pg_catalog.current_database()
  AND pg_catalog.strpos(s.query, '/* pgtune */') = 0
ORDER BY s.queryid, role;
