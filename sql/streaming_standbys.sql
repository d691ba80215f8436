-- Counts the physical replication connections streaming from this server (a
-- standby's; not a logical slot's, not a base backup's): a DROP INDEX or
-- REINDEX run here replays an ACCESS EXCLUSIVE lock on each of them.
SELECT /* pgtune */ count(*)::int
FROM pg_catalog.pg_stat_replication AS w
WHERE w.state IS DISTINCT FROM 'backup'
  -- state is NULL for a role without pg_read_all_stats; a base backup names itself (r18)
  AND NOT (w.state IS NULL AND w.application_name = 'pg_basebackup')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots AS l
                  WHERE l.active_pid = w.pid AND l.slot_type = 'logical');
