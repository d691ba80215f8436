-- Finds every index on a user table with what the health checks compare:
-- validity (pg_index.indisvalid; indisready: do writes maintain it), what it backs (a constraint, the replica
-- identity), its access method, key columns and their operator classes,
-- collations and options, expressions and predicate as the server prints
-- them, INCLUDE columns, its definition, and its size beside its table's;
-- and what rebuilding it exactly needs beyond pg_get_indexdef, which leaves
-- out the tablespace, the comment, CLUSTER ON and the statistics targets of
-- expression columns (pg_dump sets each separately): health --emit's rollback.
-- Partitioned tables: a partitioned index (relkind I) says so, with the
-- indexes of its direct partitions attached to it (`attached`: schema, table,
-- index) and the direct partitions that have none (`unattached`: schema,
-- table, and whether that partition is itself partitioned); a partition's
-- index attached to a partitioned index names it (`parent_schema`,
-- `parent_index`: pg_inherits between indexes). Such an attached index is
-- judged with its parent, never alone: PostgreSQL refuses to drop it.
SELECT /* pgtune */ n.nspname AS schema,
       t.relname AS table,
       i.relname AS index,
       i.oid AS oid,
       x.indisvalid AS is_valid,
       x.indisready AS is_ready,
       x.indisunique AS is_unique,
       x.indisexclusion AS is_exclusion,
       x.indisprimary OR x.indisexclusion OR x.indisreplident
           OR EXISTS (SELECT 1 FROM pg_catalog.pg_constraint AS c WHERE c.conindid = i.oid) AS is_protected,
       am.amname AS method,
       x.indnkeyatts AS key_count,
       x.indkey::int2[] AS attnums,
       x.indclass::oid[]::int8[] AS opclasses,
       x.indcollation::oid[]::int8[] AS collations,
       x.indoption::int2[] AS options,
       pg_catalog.pg_get_expr(x.indexprs, x.indrelid) AS expressions,
       pg_catalog.pg_get_expr(x.indpred, x.indrelid) AS predicate,
       pg_catalog.pg_get_indexdef(i.oid) AS definition,
       array(SELECT coalesce(a.attname::text, '')
             FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                 LEFT JOIN pg_catalog.pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns,
       pg_catalog.pg_relation_size(i.oid) AS index_bytes,
       pg_catalog.pg_relation_size(t.oid) AS table_bytes,
       ts.spcname AS tablespace,
       pg_catalog.obj_description(i.oid, 'pg_class') AS comment,
       x.indisclustered AS is_clustered,
       array(SELECT a.attnum::int FROM pg_catalog.pg_attribute AS a
             WHERE a.attrelid = i.oid AND a.attnum > 0 AND a.attstattarget >= 0 ORDER BY a.attnum) AS stats_columns,
       array(SELECT a.attstattarget::int FROM pg_catalog.pg_attribute AS a
             WHERE a.attrelid = i.oid AND a.attnum > 0 AND a.attstattarget >= 0 ORDER BY a.attnum) AS stats_targets,
       i.relkind = 'I' AS partitioned,
       pn.nspname AS parent_schema,
       pi.relname AS parent_index,
       array(SELECT ARRAY[cn.nspname::text, ct.relname::text, ci.relname::text]
             FROM pg_catalog.pg_inherits AS ih
                 JOIN pg_catalog.pg_class AS ci ON ci.oid = ih.inhrelid
                 JOIN pg_catalog.pg_index AS cx ON cx.indexrelid = ci.oid
                 JOIN pg_catalog.pg_class AS ct ON ct.oid = cx.indrelid
                 JOIN pg_catalog.pg_namespace AS cn ON cn.oid = ci.relnamespace
             WHERE ih.inhparent = i.oid
             ORDER BY cn.nspname, ct.relname) AS attached,
       array(SELECT ARRAY[qn.nspname::text, q.relname::text, (q.relkind = 'p')::text]
             FROM pg_catalog.pg_inherits AS tp
                 JOIN pg_catalog.pg_class AS q ON q.oid = tp.inhrelid
                 JOIN pg_catalog.pg_namespace AS qn ON qn.oid = q.relnamespace
             WHERE tp.inhparent = t.oid AND i.relkind = 'I'
               AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits AS ih
                                   JOIN pg_catalog.pg_index AS cx ON cx.indexrelid = ih.inhrelid
                               WHERE ih.inhparent = i.oid AND cx.indrelid = q.oid)
             ORDER BY qn.nspname, q.relname) AS unattached
FROM pg_catalog.pg_index AS x
    JOIN pg_catalog.pg_class AS i ON i.oid = x.indexrelid
    JOIN pg_catalog.pg_class AS t ON t.oid = x.indrelid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = t.relnamespace
    JOIN pg_catalog.pg_am AS am ON am.oid = i.relam
    LEFT JOIN pg_catalog.pg_tablespace AS ts ON ts.oid = i.reltablespace
    LEFT JOIN pg_catalog.pg_inherits AS up ON up.inhrelid = i.oid AND i.relispartition
    LEFT JOIN pg_catalog.pg_class AS pi ON pi.oid = up.inhparent
    LEFT JOIN pg_catalog.pg_namespace AS pn ON pn.oid = pi.relnamespace
WHERE t.relkind IN ('r', 'm', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
  AND n.nspname NOT LIKE 'pg\_%'
ORDER BY n.nspname, t.relname, i.relname;
