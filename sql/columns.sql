-- Finds every column of the user tables with its planner statistics
-- (pg_stats: distinct values, NULL fraction, width, physical order correlation,
-- most common values) and
-- what CHECK-constraint proposals need besides: type and its category
-- (pg_type.typcategory: S string, N numeric, D date/time, E enum, B boolean),
-- NOT NULL, the column default, and the table's size. Index advice and
-- constraints read this one query.
-- A partitioned table's statistics are its inherited ones (pg_stats.inherited,
-- gathered only by an ANALYZE of the partitioned table itself); without them,
-- those of its largest leaf partition (`stats_from` names the relation they
-- come from). Its rows and size are the sums over its leaf partitions.
-- The arrays come as their text: pgtune keeps that and splits it when read
-- (capture.catalog.ColumnStats).
SELECT /* pgtune */ n.nspname AS schema,
       c.relname AS table,
       a.attname AS column,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
       t.typcategory AS category,
       a.attnotnull AS not_null,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS default_expr,
       CASE WHEN c.relkind = 'p' THEN coalesce(leaves.reltuples, -1) ELSE c.reltuples::float8 END AS reltuples,
       CASE WHEN c.relkind = 'p' THEN coalesce(leaves.size_bytes, 0)
            ELSE pg_catalog.pg_table_size(c.oid) END AS table_bytes,
       s.n_distinct,
       s.null_frac,
       s.avg_width,
       s.correlation,
       s.most_common_vals::text AS most_common_vals,
       s.most_common_freqs::text AS most_common_freqs,
       s.histogram_bounds::text AS histogram_bounds,
       s.stats_from
FROM pg_catalog.pg_attribute AS a
    JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
    LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    LEFT JOIN LATERAL (
        SELECT CASE WHEN bool_or(lc.reltuples >= 0)
                    THEN sum(greatest(lc.reltuples, 0))::float8 ELSE -1 END AS reltuples,
               coalesce(sum(pg_catalog.pg_table_size(lc.oid)), 0)::int8 AS size_bytes
        FROM pg_catalog.pg_partition_tree(c.oid) AS pt
            JOIN pg_catalog.pg_class AS lc ON lc.oid = pt.relid
        WHERE pt.isleaf AND c.relkind = 'p'
    ) AS leaves ON true
    LEFT JOIN LATERAL (
        SELECT own.n_distinct, own.null_frac, own.avg_width, own.correlation, own.most_common_vals,
               own.most_common_freqs, own.histogram_bounds, NULL::text AS stats_from
        FROM pg_catalog.pg_stats AS own
        WHERE own.schemaname = n.nspname AND own.tablename = c.relname AND own.attname = a.attname
          AND own.inherited = (c.relkind = 'p')
        UNION ALL
        SELECT * FROM (
            SELECT ls.n_distinct, ls.null_frac, ls.avg_width, ls.correlation, ls.most_common_vals,
                   ls.most_common_freqs, ls.histogram_bounds,
                   pg_catalog.quote_ident(ls.schemaname) || '.' || pg_catalog.quote_ident(ls.tablename)
            FROM pg_catalog.pg_partition_tree(c.oid) AS pt
                JOIN pg_catalog.pg_class AS lc ON lc.oid = pt.relid
                JOIN pg_catalog.pg_namespace AS ln ON ln.oid = lc.relnamespace
                JOIN pg_catalog.pg_stats AS ls
                    ON ls.schemaname = ln.nspname AND ls.tablename = lc.relname AND ls.attname = a.attname
                       AND NOT ls.inherited
            WHERE c.relkind = 'p' AND pt.isleaf
            ORDER BY lc.reltuples DESC, lc.oid
            LIMIT 1
        ) AS largest
        LIMIT 1
    ) AS s ON true
WHERE c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
  AND n.nspname NOT LIKE 'pg\_%'
ORDER BY n.nspname, c.relname, a.attnum;
