-- Finds how many client sessions are open now (every database, pgtune's own
-- session left out): sampled during a --window for the peak in use.
SELECT /* pgtune */ count(*)::int AS sessions
FROM pg_catalog.pg_stat_activity AS a
WHERE a.backend_type = 'client backend'
  AND a.pid <> pg_catalog.pg_backend_pid();
