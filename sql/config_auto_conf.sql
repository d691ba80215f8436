-- Finds what postgresql.auto.conf holds (what ALTER SYSTEM wrote), per
-- setting, the last entry winning as the server reads it; pg_file_settings
-- is readable by superusers (and roles granted it).
SELECT /* pgtune */ DISTINCT ON (f.name) f.name, f.setting
FROM pg_catalog.pg_file_settings AS f
WHERE f.sourcefile ~ '(^|/)postgresql\.auto\.conf$'
ORDER BY f.name, f.seqno DESC;
