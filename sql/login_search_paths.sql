-- Finds the login roles with a search_path setting of their own in this
-- database (ALTER ROLE ... [IN DATABASE ...] SET search_path): an
-- application's role, whose unqualified names may resolve elsewhere than
-- pgtune's session does. pg_db_role_setting is readable by every role.
SELECT /* pgtune */ DISTINCT r.oid::int8 AS oid
FROM pg_catalog.pg_db_role_setting AS s
    JOIN pg_catalog.pg_roles AS r ON r.oid = s.setrole
    CROSS JOIN LATERAL pg_catalog.unnest(s.setconfig) AS cfg
WHERE r.rolcanlogin
  AND s.setdatabase IN (0, (SELECT d.oid FROM pg_catalog.pg_database AS d
                            WHERE d.datname = pg_catalog.current_database()))
  AND pg_catalog.starts_with(cfg, 'search_path=')
ORDER BY 1;
