-- A CHECK or (PostgreSQL 18) NOT NULL constraint left NOT VALID, as the rows
-- it must hold before health --emit validates it: the column a NOT NULL is on
-- (a CHECK whose whole rule is "column IS NOT NULL" too), else the CHECK's
-- expression as the server prints it. No row for a foreign key.
SELECT /* pgtune */ CASE WHEN c.contype = 'n' OR pg_catalog.btrim(pg_catalog.pg_get_expr(c.conbin, c.conrelid, true),
                                                             '()')
                              = pg_catalog.quote_ident(a.attname) || ' IS NOT NULL'
                         THEN a.attname END AS not_null,
       CASE WHEN c.contype = 'c' THEN pg_catalog.pg_get_expr(c.conbin, c.conrelid, true) END AS rule
FROM pg_catalog.pg_constraint AS c
    JOIN pg_catalog.pg_class AS t ON t.oid = c.conrelid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = t.relnamespace
    LEFT JOIN pg_catalog.pg_attribute AS a
        ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] AND pg_catalog.cardinality(c.conkey) = 1
WHERE n.nspname = %(schema)s AND t.relname = %(table)s AND c.conname = %(name)s AND c.contype IN ('c', 'n')
