-- Finds who owns the schema pgtune keeps its history in, and whether this
-- session's role may use it: a role that may not (the application's role,
-- where the owner applied) must be told so, not shown every phase as never
-- applied. No row: the schema does not exist. Parameter: %(schema)s.
SELECT /* pgtune */ pg_catalog.pg_get_userbyid(n.nspowner) AS owner,
       pg_catalog.has_schema_privilege(n.oid, 'USAGE') AS usable
FROM pg_catalog.pg_namespace AS n
WHERE n.nspname = %(schema)s;
