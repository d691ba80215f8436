-- Finds what this server and role can do for pgtune: version, pg_stat_statements
-- (preloaded and installed here), hypopg (available and installed), pg_qualstats
-- (available, preloaded, installed, sample rate, table size), stats privileges, replication.
-- pgss_preloaded is NULL when the role may not read shared_preload_libraries;
-- qualstats_preloaded then too, unless pg_qualstats' own setting tells.
SELECT /* pgtune */ current_setting('server_version_num')::int AS server_version_num,
       current_setting('server_version') AS server_version,
       current_database() AS database,
       current_user AS role,
       'pg_stat_statements' = ANY (string_to_array(replace(
           (SELECT s.setting FROM pg_catalog.pg_settings AS s WHERE s.name = 'shared_preload_libraries'),
           ' ', ''), ',')) AS pgss_preloaded,
       EXISTS (SELECT 1 FROM pg_catalog.pg_extension e WHERE e.extname = 'pg_stat_statements') AS pgss_installed,
       EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions a WHERE a.name = 'pg_stat_statements') AS pgss_available,
       EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions a WHERE a.name = 'hypopg') AS hypopg_available,
       EXISTS (SELECT 1 FROM pg_catalog.pg_extension e WHERE e.extname = 'hypopg') AS hypopg_installed,
       EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions a WHERE a.name = 'pg_qualstats') AS qualstats_available,
       coalesce('pg_qualstats' = ANY (string_to_array(replace(
           (SELECT s.setting FROM pg_catalog.pg_settings AS s WHERE s.name = 'shared_preload_libraries'),
           ' ', ''), ',')),
           -- a role that may not read the list: the library, once loaded, defines pg_qualstats.max as an
           -- integer (a placeholder left by the configuration alone is a string); absent, it cannot tell
           (SELECT s.vartype = 'integer' FROM pg_catalog.pg_settings AS s WHERE s.name = 'pg_qualstats.max'))
           AS qualstats_preloaded,
       EXISTS (SELECT 1 FROM pg_catalog.pg_extension e WHERE e.extname = 'pg_qualstats') AS qualstats_installed,
       current_setting('pg_qualstats.sample_rate', true) AS qualstats_sample_rate,
       current_setting('pg_qualstats.max', true)::int AS qualstats_max,
       current_setting('max_connections')::int AS max_connections,
       -- the list itself (NULL where the role may not read it): a fix that adds a library keeps the others
       (SELECT s.setting FROM pg_catalog.pg_settings AS s WHERE s.name = 'shared_preload_libraries')
           AS preload_libraries,
       (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user)
           OR pg_catalog.pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS reads_all_stats,
       -- a hot standby, and the physical replication connections streaming from this server (not a logical
       -- slot's, not a base backup's): a read replica runs statements this pg_stat_statements never sees
       pg_catalog.pg_is_in_recovery() AS in_recovery,
       (SELECT count(*) FROM pg_catalog.pg_stat_replication AS w
        WHERE w.state IS DISTINCT FROM 'backup'
          -- state is NULL for a role without pg_read_all_stats; a base backup names itself (r18)
          AND NOT (w.state IS NULL AND w.application_name = 'pg_basebackup')
          AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots AS l
                          WHERE l.active_pid = w.pid AND l.slot_type = 'logical'))::int AS standbys;
