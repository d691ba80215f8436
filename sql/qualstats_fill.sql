-- Finds how full pg_qualstats' shared table is: its entries (one per statement,
-- predicate and constant, over every database of the server) and the
-- statements they belong to, beside pg_qualstats.max; and how many of the
-- statements pg_stat_statements tracks could hold predicates there: pgtune's
-- own (tagged /* pgtune */, which never feed pg_qualstats and grow with every
-- pgtune run) and utility statements (no predicate) are not counted, so the
-- size this sizes pg_qualstats.max from does not change from one pgtune run to
-- the next (the tryouts' F7).
-- The two functions are schema-qualified by the caller (their extensions' schemas).
SELECT /* pgtune */ count(*)::int AS entries,
       count(DISTINCT q.queryid)::int AS statements,
       (SELECT count(*)::int FROM {statements}(true) AS s
        WHERE strpos(coalesce(s.query, ''), '/* pgtune */') = 0
          AND NOT coalesce({utility_statement}, false)) AS pgss_statements
FROM {qualstats}() AS q;
