-- Finds the shared_preload_libraries a restart will load: the last entry the
-- server reads in its configuration files (postgresql.auto.conf, where ALTER
-- SYSTEM writes, comes last). pg_file_settings reads the files afresh, so an
-- ALTER SYSTEM not yet in force shows here; no row: the files set none.
-- Superuser-only unless granted: the caller treats a refusal as unknown.
SELECT /* pgtune */ f.setting
FROM pg_catalog.pg_file_settings AS f
WHERE f.name = 'shared_preload_libraries'
ORDER BY f.seqno DESC
LIMIT 1;
