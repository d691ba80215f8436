-- Finds every index on user tables: key columns in order (NULL for an
-- expression), each key's definition text, INCLUDE columns, per-column DESC,
-- predicate, validity and definition; per key column whether its operator class
-- has an `=` (always for a b-tree; btree_gist's for a GiST on a scalar column).
SELECT /* pgtune */ n.nspname AS schema,
       t.relname AS table,
       i.relname AS name,
       am.amname AS method,
       x.indisunique AS is_unique,
       x.indisprimary AS is_primary,
       x.indisvalid AS is_valid,
       x.indnkeyatts AS key_count,
       array(SELECT a.attname::text
             FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                 LEFT JOIN pg_catalog.pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0
             ORDER BY k.ord) AS columns,
       array(SELECT pg_catalog.pg_get_indexdef(x.indexrelid, k, true)
             FROM generate_series(1, x.indnatts) AS k
             ORDER BY k) AS key_defs,
       array(SELECT (o.opt & 1) = 1
             FROM unnest(x.indoption::int2[]) WITH ORDINALITY AS o(opt, ord)
             ORDER BY o.ord) AS descending,
       array(SELECT EXISTS (SELECT 1
                            FROM pg_catalog.pg_opclass AS oc
                                JOIN pg_catalog.pg_amop AS ao ON ao.amopfamily = oc.opcfamily AND ao.amoppurpose = 's'
                                JOIN pg_catalog.pg_operator AS op ON op.oid = ao.amopopr AND op.oprname = '='
                            WHERE oc.oid = c.opc)
             FROM unnest(x.indclass::oid[]) WITH ORDINALITY AS c(opc, ord)
             ORDER BY c.ord) AS equality,
       pg_catalog.pg_get_expr(x.indpred, x.indrelid) AS predicate,
       pg_catalog.pg_get_indexdef(x.indexrelid) AS definition,
       pg_catalog.pg_relation_size(x.indexrelid) AS size_bytes
FROM pg_catalog.pg_index AS x
    JOIN pg_catalog.pg_class AS i ON i.oid = x.indexrelid
    JOIN pg_catalog.pg_class AS t ON t.oid = x.indrelid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = t.relnamespace
    JOIN pg_catalog.pg_am AS am ON am.oid = i.relam
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
  AND n.nspname NOT LIKE 'pg\_toast%'
ORDER BY n.nspname, t.relname, i.relname;
