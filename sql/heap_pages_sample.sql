-- The heap pages holding a table's rows that an index scan would visit: the distinct block numbers of the rows
-- matching the scan's index conditions (and the partial index's predicate), and their count, read from a
-- sample of the table's pages (SYSTEM: whole pages, so a sampled page's matching rows are all seen; REPEATABLE: the
-- same pages for every target on the table, read from the cache after the first).
-- Parts: relation (a workload statement's table, printed by pglast), percent (a literal), condition (its
-- conjuncts on the index's key columns and the index's predicate, printed by pglast, values as literals).
SELECT /* pgtune */ pg_catalog.count(DISTINCT (ctid::text::pg_catalog.point)[0]) AS pages,
       pg_catalog.count(*) AS "rows"
FROM {relation} TABLESAMPLE SYSTEM ({percent}) REPEATABLE (0)
WHERE {condition}
