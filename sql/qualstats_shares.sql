-- Finds, per statement (queryid), the quals pg_qualstats kept without their
-- constant (a comparison through a cast such as CAST($1::text AS "Status"),
-- or a generic plan's parameter) where the qual was the only filter of its
-- plan node, and the rows those executions read and threw away: the share
-- of rows the qual kept is the frequency of the value it was run with.
-- A partition's qual counts for its partitioned table, as in
-- qualstats_constants (x36): its rows add up over the partitions, so the
-- share is the table's; its occurrences are the most one partition saw.
WITH filters AS (
    SELECT q.queryid, q.qualid, count(DISTINCT q.qualnodeid) AS filters
    FROM pg_qualstats AS q
    WHERE q.eval_type = 'f' AND q.qualid IS NOT NULL
    GROUP BY q.queryid, q.qualid
),
per_relation AS (
    SELECT q.queryid,
           COALESCE(pg_catalog.pg_partition_root(q.lrelid), q.lrelid) AS relid,
           a.attname,
           q.opno,
           sum(q.execution_count) AS executions,
           sum(q.nbfiltered) AS filtered,
           sum(q.occurences) AS occurrences
    FROM pg_qualstats AS q
        JOIN pg_catalog.pg_attribute AS a ON a.attrelid = q.lrelid AND a.attnum = q.lattnum
        LEFT JOIN filters AS f ON f.queryid = q.queryid AND f.qualid = q.qualid
    WHERE q.constvalue IS NULL
      AND q.eval_type = 'f'
      AND q.rrelid IS NULL
      AND q.queryid IS NOT NULL
      AND q.execution_count > 0
      AND (q.qualid IS NULL OR f.filters = 1)
      AND q.dbid = (SELECT d.oid FROM pg_catalog.pg_database AS d WHERE d.datname = current_database())
    GROUP BY q.queryid, q.lrelid, a.attname, q.opno
)
SELECT /* pgtune */ r.queryid,
       n.nspname AS schema,
       c.relname AS table,
       r.attname AS column,
       o.oprname AS op,
       sum(r.executions)::bigint AS executions,
       sum(r.filtered)::bigint AS filtered,
       max(r.occurrences)::bigint AS occurrences
FROM per_relation AS r
    JOIN pg_catalog.pg_class AS c ON c.oid = r.relid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_operator AS o ON o.oid = r.opno
GROUP BY 1, 2, 3, 4, 5
ORDER BY r.queryid, 2, 3, 4, 5;
