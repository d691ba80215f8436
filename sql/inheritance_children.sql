-- The tables that have child tables by old-style inheritance (INHERITS, not
-- declarative partitioning), with every descendant that holds rows: a
-- statement on the parent reads them all, and an index built on the parent
-- reaches none of them (CREATE INDEX does not recurse to inheritance children).
WITH RECURSIVE down AS (
    SELECT i.inhparent AS root, i.inhrelid AS child
    FROM pg_catalog.pg_inherits AS i
        JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid
    WHERE NOT c.relispartition
  UNION
    SELECT d.root, i.inhrelid
    FROM down AS d
        JOIN pg_catalog.pg_inherits AS i ON i.inhparent = d.child
)
SELECT /* pgtune */ pn.nspname AS schema, p.relname AS table,
       array_agg(cn.nspname::text || '.' || c.relname::text ORDER BY cn.nspname, c.relname) AS children,
       sum(greatest(c.reltuples, 0))::float8 AS rows
FROM down AS d
    JOIN pg_catalog.pg_class AS p ON p.oid = d.root
    JOIN pg_catalog.pg_namespace AS pn ON pn.oid = p.relnamespace
    JOIN pg_catalog.pg_class AS c ON c.oid = d.child
    JOIN pg_catalog.pg_namespace AS cn ON cn.oid = c.relnamespace
WHERE p.relkind = 'r' AND c.relkind = 'r' AND (c.reltuples > 0 OR c.relpages > 0)
GROUP BY pn.nspname, p.relname
