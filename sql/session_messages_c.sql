-- The server's messages in English for this session, where the role may set
-- lc_messages (a superuser; from PostgreSQL 15 a GRANT SET ON PARAMETER).
-- pgtune reads some of them: param_types takes the type a PREPARE refusal
-- names, and "Operator existiert nicht: integer = text" from a server whose
-- lc_messages is German (initdb takes it from the host's locale) left the $n
-- untyped, the statement "cannot plan" (r22). {may}: the privilege test, false
-- before PostgreSQL 15 (a superuser alone may there).
SELECT /* pgtune */ pg_catalog.set_config('lc_messages', 'C', false)
WHERE pg_catalog.current_setting('lc_messages') !~ '^(C|POSIX|en)([._@]|$)'
  AND (pg_catalog.current_setting('is_superuser') = 'on' OR {may});
