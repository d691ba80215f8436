-- Finds, per table, a valid b-tree index whose first key is a plain column, to time an index scan with:
-- the primary key first, then a unique index, then the smallest other one; and the table's pages (relpages,
-- for the page-heavy probe).
-- Parameters: schemas, tables (parallel arrays).
SELECT /* pgtune */ DISTINCT ON (w.schema, w.table)
       w.schema,
       w.table,
       a.attname AS "column",
       t.relpages AS pages
FROM unnest(%(schemas)s::text[], %(tables)s::text[]) AS w(schema, "table")
    JOIN pg_catalog.pg_namespace AS n ON n.nspname = w.schema
    JOIN pg_catalog.pg_class AS t ON t.relnamespace = n.oid AND t.relname = w.table AND t.relkind = 'r'
    JOIN pg_catalog.pg_index AS x ON x.indrelid = t.oid AND x.indisvalid AND x.indpred IS NULL
    JOIN pg_catalog.pg_class AS i ON i.oid = x.indexrelid
    JOIN pg_catalog.pg_am AS am ON am.oid = i.relam AND am.amname = 'btree'
    JOIN pg_catalog.pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = x.indkey[0] AND x.indkey[0] > 0
ORDER BY w.schema, w.table, x.indisprimary DESC, x.indisunique DESC, pg_catalog.pg_relation_size(i.oid), i.relname;
