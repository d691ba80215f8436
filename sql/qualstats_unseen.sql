-- Finds, per statement (queryid), the columns pg_qualstats saw compared
-- without a constant (a generic plan's parameter, a cast it cannot fold)
-- in some executions, and in how many (occurrences): the values of those
-- executions are unknown, so a parameter that had one value in the others is
-- not known to have it always, and the constants it saw stand for the other
-- executions only (analyze.coverage).
-- Only "column operator value" quals of this database (no join's column = column).
-- A partition's qual counts for its partitioned table, its occurrences the most
-- one partition saw, as in qualstats_constants (x36).
-- executions and kept: the rows those executions' plan node read and let through
-- (execution_count, and it less nbfiltered, summed over partitions): beside the
-- rows of the executions with a constant, they tell one value sent every time
-- (the generic plan reads what the custom ones read) from many values nobody saw (q37).
WITH per_relation AS (
    SELECT q.queryid,
           COALESCE(pg_catalog.pg_partition_root(q.lrelid), q.lrelid) AS relid,
           a.attname,
           q.opno,
           sum(q.occurences) AS occurrences,
           sum(q.execution_count) AS executions,
           sum(q.execution_count - q.nbfiltered) AS kept
    FROM pg_qualstats AS q
        JOIN pg_catalog.pg_attribute AS a ON a.attrelid = q.lrelid AND a.attnum = q.lattnum
    WHERE q.constvalue IS NULL
      AND q.rrelid IS NULL
      AND q.queryid IS NOT NULL
      AND q.dbid = (SELECT d.oid FROM pg_catalog.pg_database AS d WHERE d.datname = current_database())
    GROUP BY q.queryid, q.lrelid, a.attname, q.opno
)
SELECT /* pgtune */ r.queryid,
       n.nspname AS schema,
       c.relname AS table,
       r.attname AS column,
       o.oprname AS op,
       max(r.occurrences)::bigint AS occurrences,
       sum(r.executions)::bigint AS executions,
       sum(r.kept)::bigint AS kept
FROM per_relation AS r
    JOIN pg_catalog.pg_class AS c ON c.oid = r.relid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_operator AS o ON o.oid = r.opno
GROUP BY 1, 2, 3, 4, 5
ORDER BY 1, 2, 3, 4, 5;
