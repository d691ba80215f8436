-- Finds an index and every index attached to it at any depth (a partitioned
-- index's partitions' indexes: plans name those), each with its size (a
-- partitioned index itself has none). Parameter: %(index)s, schema-qualified.
WITH RECURSIVE tree AS (
    SELECT %(index)s::regclass::oid AS oid
    UNION ALL
    SELECT i.inhrelid FROM pg_catalog.pg_inherits AS i JOIN tree AS t ON i.inhparent = t.oid
)
SELECT /* pgtune */ c.relname AS index, pg_catalog.pg_relation_size(c.oid) AS bytes
FROM tree AS t
    JOIN pg_catalog.pg_class AS c ON c.oid = t.oid;
