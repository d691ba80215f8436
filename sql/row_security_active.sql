-- Finds whether row security filters this role's reads of a table (its
-- policies apply: not the owner of a table without FORCE, not BYPASSRLS, not
-- a superuser). The CHECK prover then gives up before it asks: its query with
-- row_security off would only fail, an ERROR in the server's log each time.
-- Parameters: %(schema)s, %(table)s.
SELECT /* pgtune */ pg_catalog.row_security_active(c.oid) AS active
FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relname = %(table)s;
