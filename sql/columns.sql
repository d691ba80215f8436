-- Finds every column of the user tables with its planner statistics
-- (pg_stats: distinct values, NULL fraction, width, physical order correlation,
-- most common values) and
-- what CHECK-constraint proposals need besides: type and its category
-- (pg_type.typcategory: S string, N numeric, D date/time, E enum, B boolean),
-- NOT NULL and the column default (the table's rows and size are sql/tables.sql's).
-- Index advice and constraints read this one query.
-- A partitioned table's statistics are its inherited ones (pg_stats.inherited,
-- gathered only by an ANALYZE of the partitioned table itself); without them,
-- those of its largest leaf partition (`stats_from` names the relation they
-- come from).
-- The arrays come as their text: pgtune keeps that and splits it when read
-- (capture.catalog.ColumnStats).
-- pg_stats is joined whole, not looked up column by column: with a schema per
-- tenant each table name is there once per tenant, and the lookups by name
-- read 656,000 pages of pg_class for 4,000 tables (40 tenants).
WITH tabs AS MATERIALIZED (
    SELECT c.oid, c.relname, c.relkind, n.nspname
    FROM pg_catalog.pg_class AS c
        JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
      AND n.nspname NOT LIKE 'pg\_%'
)
SELECT /* pgtune */ c.nspname AS schema,
       c.relname AS table,
       a.attname AS column,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
       t.typcategory AS category,
       a.attnotnull AS not_null,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS default_expr,
       coalesce(own.n_distinct, leaf.n_distinct) AS n_distinct,
       coalesce(own.null_frac, leaf.null_frac) AS null_frac,
       coalesce(own.avg_width, leaf.avg_width) AS avg_width,
       coalesce(own.correlation, leaf.correlation) AS correlation,
       coalesce(own.most_common_vals, leaf.most_common_vals)::text AS most_common_vals,
       coalesce(own.most_common_freqs, leaf.most_common_freqs)::text AS most_common_freqs,
       coalesce(own.histogram_bounds, leaf.histogram_bounds)::text AS histogram_bounds,
       leaf.stats_from
FROM tabs AS c
    JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid
    JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
    LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    LEFT JOIN pg_catalog.pg_stats AS own
        ON own.schemaname = c.nspname AND own.tablename = c.relname AND own.attname = a.attname
           AND own.inherited = (c.relkind = 'p')
    LEFT JOIN LATERAL (
        SELECT ls.n_distinct, ls.null_frac, ls.avg_width, ls.correlation, ls.most_common_vals,
               ls.most_common_freqs, ls.histogram_bounds,
               pg_catalog.quote_ident(ls.schemaname) || '.' || pg_catalog.quote_ident(ls.tablename) AS stats_from
        FROM pg_catalog.pg_partition_tree(c.oid) AS pt
            JOIN pg_catalog.pg_class AS lc ON lc.oid = pt.relid
            JOIN pg_catalog.pg_namespace AS ln ON ln.oid = lc.relnamespace
            JOIN pg_catalog.pg_stats AS ls
                ON ls.schemaname = ln.nspname AND ls.tablename = lc.relname AND ls.attname = a.attname
                   AND NOT ls.inherited
        WHERE c.relkind = 'p' AND own.attname IS NULL AND pt.isleaf
        ORDER BY lc.reltuples DESC, lc.oid
        LIMIT 1
    ) AS leaf ON true
WHERE a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.nspname, c.relname, a.attnum;
