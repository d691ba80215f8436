-- Finds what tells a managed platform apart: the names of its own settings
-- (rds.*, apg*, cloudsql.*, azure.*, neon.*, supautils.*) and of its roles
-- (rds_superuser, cloudsqlsuperuser, azure_pg_admin, supabase_admin,
-- neon_superuser), whether the current role is a superuser, and its backend's pid.
SELECT /* pgtune */ ARRAY(SELECT s.name FROM pg_catalog.pg_settings AS s
                          WHERE s.name ~ '^(rds|apg|aurora|cloudsql|azure|neon|supautils)[._]'
                          ORDER BY s.name) AS settings,
       ARRAY(SELECT r.rolname::text FROM pg_catalog.pg_roles AS r
             WHERE r.rolname IN ('rds_superuser', 'rdsadmin', 'cloudsqlsuperuser', 'azure_pg_admin',
                                 'azuresu', 'supabase_admin', 'neon_superuser')
             ORDER BY r.rolname) AS roles,
       (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user) AS superuser,
       pg_catalog.pg_backend_pid() AS backend_pid;
