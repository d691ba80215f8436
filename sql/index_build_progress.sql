-- Finds how far one backend's CREATE INDEX has got (pg_stat_progress_create_index):
-- its phase and the blocks or tuples done out of the total for that phase.
-- Parameter: pid.
SELECT /* pgtune */ p.phase,
       CASE WHEN p.blocks_total > 0 THEN p.blocks_done ELSE p.tuples_done END AS done,
       CASE WHEN p.blocks_total > 0 THEN p.blocks_total ELSE p.tuples_total END AS total
FROM pg_catalog.pg_stat_progress_create_index AS p
WHERE p.pid = %(pid)s;
