-- A constraint left NOT VALID, as the rows it must hold before health --emit
-- validates it: the column a NOT NULL is on (a CHECK whose whole rule is
-- "column IS NOT NULL" too), else a CHECK's expression as the server prints
-- it; a foreign key's columns, its parent table and the columns they match
-- there, and whether each table is partitioned (a partitioned table's rows are
-- its partitions'; a plain table's key holds for its own rows only); MATCH
-- FULL (a key with some columns NULL and others not breaks it too).
SELECT /* pgtune */ CASE WHEN c.contype = 'n' OR pg_catalog.btrim(pg_catalog.pg_get_expr(c.conbin, c.conrelid, true),
                                                             '()')
                              = pg_catalog.quote_ident(a.attname) || ' IS NOT NULL'
                         THEN a.attname END AS not_null,
       CASE WHEN c.contype = 'c' THEN pg_catalog.pg_get_expr(c.conbin, c.conrelid, true) END AS rule,
       CASE WHEN c.contype = 'f' THEN array(
           SELECT ca.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, i)
               JOIN pg_catalog.pg_attribute AS ca ON ca.attrelid = c.conrelid AND ca.attnum = k.attnum
           ORDER BY k.i) END AS fk_columns,
       pn.nspname AS parent_schema,
       p.relname AS parent_table,
       CASE WHEN c.contype = 'f' THEN array(
           SELECT pa.attname FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, i)
               JOIN pg_catalog.pg_attribute AS pa ON pa.attrelid = c.confrelid AND pa.attnum = k.attnum
           ORDER BY k.i) END AS parent_columns,
       t.relkind = 'p' AS partitioned,
       p.relkind = 'p' AS parent_partitioned,
       c.confmatchtype = 'f' AS match_full
FROM pg_catalog.pg_constraint AS c
    JOIN pg_catalog.pg_class AS t ON t.oid = c.conrelid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = t.relnamespace
    LEFT JOIN pg_catalog.pg_attribute AS a
        ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] AND pg_catalog.cardinality(c.conkey) = 1
    LEFT JOIN pg_catalog.pg_class AS p ON p.oid = c.confrelid
    LEFT JOIN pg_catalog.pg_namespace AS pn ON pn.oid = p.relnamespace
WHERE n.nspname = %(schema)s AND t.relname = %(table)s AND c.conname = %(name)s AND c.contype IN ('c', 'n', 'f')
