-- Finds the names a statement must name for its plan to scan one of the named indexes: the indexes'
-- tables and their ancestors (a partitioned or inheritance parent's scan reaches a child's index), every
-- view (its plan reads the base tables) and every set-returning function outside pg_catalog (an inlined
-- SQL function's body). A statement naming none of them (an INSERT's VALUES, a load from a temporary
-- table) is not planned: planning it could only fail or find no such index.
WITH RECURSIVE owners AS (
    SELECT x.indrelid AS rel
    FROM pg_catalog.pg_index AS x
        JOIN pg_catalog.pg_class AS i ON i.oid = x.indexrelid
    WHERE i.relname = ANY (%(names)s::text[])
    UNION
    SELECT h.inhparent
    FROM pg_catalog.pg_inherits AS h
        JOIN owners AS o ON o.rel = h.inhrelid
)
SELECT /* pgtune */ c.relname AS name
FROM owners AS o
    JOIN pg_catalog.pg_class AS c ON c.oid = o.rel
UNION
SELECT c.relname
FROM pg_catalog.pg_class AS c
WHERE c.relkind IN ('v', 'm')
  AND c.relnamespace <> 'pg_catalog'::pg_catalog.regnamespace
UNION
SELECT p.proname
FROM pg_catalog.pg_proc AS p
WHERE p.proretset
  AND p.pronamespace <> 'pg_catalog'::pg_catalog.regnamespace;
