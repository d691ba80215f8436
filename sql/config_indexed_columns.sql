-- Finds, per table of the current database, the columns its indexes hold as
-- keys or INCLUDE columns, and whether an index has an expression or a
-- predicate (whose columns an UPDATE may change without naming them here).
-- An UPDATE that changes none of these columns can be HOT.
SELECT /* pgtune */ n.nspname AS schema,
       c.relname AS table,
       coalesce(ARRAY(SELECT DISTINCT a.attname::text
                      FROM pg_catalog.pg_index AS i
                          JOIN pg_catalog.pg_attribute AS a
                            ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])
                      WHERE i.indrelid = c.oid
                      ORDER BY 1), '{}') AS columns,
       EXISTS (SELECT 1 FROM pg_catalog.pg_index AS i
               WHERE i.indrelid = c.oid AND (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL)) AS expressions
FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
  AND n.nspname !~ '^pg_toast'
ORDER BY n.nspname, c.relname;
