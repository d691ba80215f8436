-- Finds, per statement (queryid), the columns pg_qualstats saw compared
-- without a constant (a generic plan's parameter, a cast it cannot fold)
-- in some executions, and in how many (occurrences): the values of those
-- executions are unknown, so a parameter that had one value in the others is
-- not known to have it always, and the constants it saw stand for the other
-- executions only (analyze.coverage).
-- Only "column operator value" quals of this database (no join's column = column).
SELECT /* pgtune */ q.queryid,
       n.nspname AS schema,
       c.relname AS table,
       a.attname AS column,
       o.oprname AS op,
       sum(q.occurences)::bigint AS occurrences
FROM pg_qualstats AS q
    JOIN pg_catalog.pg_class AS c ON c.oid = q.lrelid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_attribute AS a ON a.attrelid = q.lrelid AND a.attnum = q.lattnum
    JOIN pg_catalog.pg_operator AS o ON o.oid = q.opno
WHERE q.constvalue IS NULL
  AND q.rrelid IS NULL
  AND q.queryid IS NOT NULL
  AND q.dbid = (SELECT d.oid FROM pg_catalog.pg_database AS d WHERE d.datname = current_database())
GROUP BY 1, 2, 3, 4, 5
ORDER BY 1, 2, 3, 4, 5;
