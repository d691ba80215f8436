-- Finds the search_path a role without its own setting (nor its database's)
-- logs in with: the server's (configuration file or built-in default), and
-- this session's role name (what "$user" stands for here).
SELECT /* pgtune */ CASE WHEN s.source IN ('default', 'configuration file', 'command line', 'environment variable')
                         THEN s.reset_val ELSE s.boot_val END AS search_path,
       session_user AS session_role
FROM pg_catalog.pg_settings AS s
WHERE s.name = 'search_path';
