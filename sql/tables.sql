-- Finds the ordinary and partitioned user tables, and materialized views (an
-- index on one serves its readers), with their columns, size, row estimate and
-- write activity: rows whose write maintains every index (inserts and non-HOT
-- updates) and deletes (which scan referencing FKs).
-- A partitioned table (relkind p) holds no rows itself: its size, rows and
-- writes are the sums over its leaf partitions (autovacuum never analyzes a
-- partitioned table, so its own reltuples is often -1), and `partitions` lists
-- its direct partitions; a partition names its `parent`.
-- relpages and relallvisible are the last VACUUM's (or ANALYZE's, or CREATE
-- INDEX's) view of the visibility map; dead_rows the rows written since, each
-- clearing its page's bit (0 for a partitioned table): n_dead_tup counts from
-- the last VACUUM, n_mod_since_analyze from the last ANALYZE, and both recount
-- the map, so the smaller is the count since it was last read (r10).
-- policed: row security filters this role's own reads of the table (its
-- policies apply to pgtune's login, e.g. as a member of the application's
-- role): pgtune's samples of it would only fail or read another tenant's rows.
-- So is a table it may not SELECT: a partition the application reads only
-- through its parent (p14), where each sample was a permission ERROR.
-- virtual: PostgreSQL 18's virtual generated columns (attgenerated 'v', the
-- default kind there) with their expressions: the server refuses any index
-- naming one, and its planner reads each as its expression (p17).
SELECT /* pgtune */ n.nspname AS schema,
       c.relname AS table,
       c.relkind::text AS kind,
       CASE WHEN c.relkind = 'p' THEN leaves.reltuples ELSE c.reltuples::float8 END AS reltuples,  -- -1: never analyzed
       CASE WHEN c.relkind = 'p' THEN leaves.size_bytes ELSE pg_catalog.pg_table_size(c.oid) END AS size_bytes,
       CASE WHEN c.relkind = 'p' THEN leaves.writes
            ELSE coalesce(st.n_tup_ins + st.n_tup_upd - st.n_tup_hot_upd, 0) END AS writes,
       CASE WHEN c.relkind = 'p' THEN leaves.deletes ELSE coalesce(st.n_tup_del, 0) END AS deletes,
       CASE WHEN c.relkind = 'p' THEN 0 ELSE c.relpages::int8 END AS relpages,
       CASE WHEN c.relkind = 'p' THEN 0 ELSE c.relallvisible::int8 END AS relallvisible,
       CASE WHEN c.relkind = 'p' THEN 0
            ELSE coalesce(least(st.n_dead_tup, st.n_mod_since_analyze), 0) END AS dead_rows,
       pn.nspname AS parent_schema,
       pc.relname AS parent_table,
       array(SELECT ARRAY[kn.nspname::text, kc.relname::text]
             FROM pg_catalog.pg_inherits AS k
                 JOIN pg_catalog.pg_class AS kc ON kc.oid = k.inhrelid
                 JOIN pg_catalog.pg_namespace AS kn ON kn.oid = kc.relnamespace
             WHERE k.inhparent = c.oid AND kc.relispartition
             ORDER BY kn.nspname, kc.relname) AS partitions,
       array(SELECT a.attname::text
             FROM pg_catalog.pg_attribute AS a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum) AS columns,
       array(SELECT pg_catalog.format_type(a.atttypid, a.atttypmod)
             FROM pg_catalog.pg_attribute AS a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum) AS column_types,
       array(SELECT ARRAY[a.attname::text, pg_catalog.pg_get_expr(d.adbin, d.adrelid)]
             FROM pg_catalog.pg_attribute AS a
                 JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = 'v'
             ORDER BY a.attnum) AS virtual,
       (c.relrowsecurity AND pg_catalog.row_security_active(c.oid))
           OR NOT pg_catalog.has_table_privilege(c.oid, 'SELECT') AS policed
FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    LEFT JOIN pg_catalog.pg_stat_user_tables AS st ON st.relid = c.oid
    LEFT JOIN pg_catalog.pg_inherits AS i ON i.inhrelid = c.oid AND c.relispartition
    LEFT JOIN pg_catalog.pg_class AS pc ON pc.oid = i.inhparent
    LEFT JOIN pg_catalog.pg_namespace AS pn ON pn.oid = pc.relnamespace
    LEFT JOIN LATERAL (
        SELECT CASE WHEN bool_or(lc.reltuples >= 0)
                    THEN sum(greatest(lc.reltuples, 0))::float8 ELSE -1 END AS reltuples,
               coalesce(sum(pg_catalog.pg_table_size(lc.oid)), 0)::int8 AS size_bytes,
               coalesce(sum(ls.n_tup_ins + ls.n_tup_upd - ls.n_tup_hot_upd), 0)::int8 AS writes,
               coalesce(sum(ls.n_tup_del), 0)::int8 AS deletes
        FROM pg_catalog.pg_partition_tree(c.oid) AS t
            JOIN pg_catalog.pg_class AS lc ON lc.oid = t.relid
            LEFT JOIN pg_catalog.pg_stat_user_tables AS ls ON ls.relid = lc.oid
        WHERE t.isleaf AND c.relkind = 'p'
    ) AS leaves ON true
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
  AND n.nspname NOT LIKE 'pg\_toast%'
  AND n.nspname NOT LIKE 'pg\_temp%'
ORDER BY n.nspname, c.relname;
