-- Finds how full pg_qualstats' shared table is: its entries (one per statement,
-- predicate and constant, over every database of the server) and the
-- statements they belong to, beside pg_qualstats.max; and how many statements
-- pg_stat_statements tracks, which the table must hold the predicates of.
-- The two functions are schema-qualified by the caller (their extensions' schemas).
SELECT /* pgtune */ count(*)::int AS entries,
       count(DISTINCT q.queryid)::int AS statements,
       (SELECT count(*)::int FROM {statements}(false) AS s) AS pgss_statements
FROM {qualstats}() AS q;
