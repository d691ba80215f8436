-- Finds, per statement (queryid), the constants pg_qualstats saw compared
-- with each column, how often, and how many rows those executions filtered
-- out and the rows they were evaluated on (the heavy constants: the
-- executions that read the most rows).
-- Only "column operator constant" quals of this database. A partition's qual
-- counts for its partitioned table, the table the statement names (pg_qualstats
-- keeps it per partition scanned: x36, Documenso's audit log gave none): its
-- rows add up over the partitions, its occurrences are the most one partition
-- saw (each execution evaluates it once on every partition it scans).
WITH per_relation AS (
    SELECT q.queryid,
           COALESCE(pg_catalog.pg_partition_root(q.lrelid), q.lrelid) AS relid,
           a.attname,
           q.opno,
           q.constvalue,
           sum(q.occurences) AS occurrences,
           sum(q.nbfiltered) AS filtered,
           sum(q.execution_count) AS executions
    FROM pg_qualstats AS q
        JOIN pg_catalog.pg_attribute AS a ON a.attrelid = q.lrelid AND a.attnum = q.lattnum
    WHERE q.constvalue IS NOT NULL
      AND q.queryid IS NOT NULL
      AND q.dbid = (SELECT d.oid FROM pg_catalog.pg_database AS d WHERE d.datname = current_database())
    GROUP BY q.queryid, q.lrelid, a.attname, q.opno, q.constvalue
)
SELECT /* pgtune */ r.queryid,
       n.nspname AS schema,
       c.relname AS table,
       r.attname AS column,
       o.oprname AS op,
       r.constvalue,
       max(r.occurrences)::bigint AS occurrences,
       sum(r.filtered)::bigint AS filtered,
       sum(r.executions)::bigint AS executions
FROM per_relation AS r
    JOIN pg_catalog.pg_class AS c ON c.oid = r.relid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_operator AS o ON o.oid = r.opno
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY r.queryid, occurrences DESC;
