-- Finds, per statement (queryid), the constants pg_qualstats saw compared
-- with each column, how often, and how many rows those executions filtered
-- out and the rows they were evaluated on (the heavy constants: the
-- executions that read the most rows).
-- Only "column operator constant" quals of this database.
SELECT /* pgtune */ q.queryid,
       n.nspname AS schema,
       c.relname AS table,
       a.attname AS column,
       o.oprname AS op,
       q.constvalue,
       sum(q.occurences)::bigint AS occurrences,
       sum(q.nbfiltered)::bigint AS filtered,
       sum(q.execution_count)::bigint AS executions
FROM pg_qualstats AS q
    JOIN pg_catalog.pg_class AS c ON c.oid = q.lrelid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_attribute AS a ON a.attrelid = q.lrelid AND a.attnum = q.lattnum
    JOIN pg_catalog.pg_operator AS o ON o.oid = q.opno
WHERE q.constvalue IS NOT NULL
  AND q.queryid IS NOT NULL
  AND q.dbid = (SELECT d.oid FROM pg_catalog.pg_database AS d WHERE d.datname = current_database())
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY q.queryid, occurrences DESC;
