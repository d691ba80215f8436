-- Finds the INVALID indexes an interrupted REINDEX INDEX CONCURRENTLY left
-- beside the index it rebuilt: the new copy <name>_ccnew (or _ccnew1, …),
-- on the same table, never valid. Parameters: %(schema)s, %(name)s.
SELECT /* pgtune */ c.relname AS name
FROM pg_catalog.pg_index AS x
    JOIN pg_catalog.pg_class AS c ON c.oid = x.indexrelid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s
  AND NOT x.indisvalid
  AND x.indrelid = (SELECT o.indrelid
                    FROM pg_catalog.pg_index AS o
                        JOIN pg_catalog.pg_class AS oc ON oc.oid = o.indexrelid
                        JOIN pg_catalog.pg_namespace AS onsp ON onsp.oid = oc.relnamespace
                    WHERE onsp.nspname = %(schema)s AND oc.relname = %(name)s)
  AND c.relname ~ ('^' || regexp_replace(left(%(name)s, 57), '([^[:alnum:]_])', '\\\1', 'g') || '_ccnew[0-9]*$');
