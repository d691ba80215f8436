-- Finds the settings this session changed for itself (SET, set_config(..., false)): a pool's other
-- sessions take them, so their plans are the ones this session would make (random_page_cost, say).
SELECT /* pgtune */ s.name, s.setting
FROM pg_catalog.pg_settings s
WHERE s.source = 'session'
  AND s.name <> 'application_name'
ORDER BY s.name
