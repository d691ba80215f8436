-- Whether this session's role may act as a table's owner: CREATE STATISTICS
-- and ANALYZE need it (a least-privilege pgtune role does not own the
-- application's tables; asked anyway, each is an ERROR in the server's log).
-- Parameters: schema, table.
SELECT /* pgtune */ pg_catalog.pg_has_role(c.relowner, 'USAGE')
FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relname = %(table)s;
