-- May this role read pg_backend_memory_contexts (PostgreSQL 14 on; from 15 granted
-- to pg_read_all_stats)? Asked before the read, so a role without it leaves no
-- "permission denied" ERROR in the server's log; no row where the view is absent.
SELECT /* pgtune */ pg_catalog.has_table_privilege(c.oid, 'SELECT') AS readable
FROM pg_catalog.pg_class AS c
WHERE c.oid = pg_catalog.to_regclass('pg_catalog.pg_backend_memory_contexts');
