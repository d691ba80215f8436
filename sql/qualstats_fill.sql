-- Finds how full pg_qualstats' shared table is: its entries (one per statement,
-- predicate and constant, over every database of the server) and the
-- statements they belong to, beside pg_qualstats.max; and how many of the
-- statements pg_stat_statements tracks could hold predicates there: pgtune's
-- own (tagged /* pgtune */, which never feed pg_qualstats and grow with every
-- pgtune run) and utility statements (no predicate) are not counted, so the
-- size this sizes pg_qualstats.max from does not change from one pgtune run to
-- the next (the tryouts' F7). Nor are other roles' statements whose text this
-- role may not read (<insufficient privilege>): check counts them apart (c21).
-- unique_lookups: the entries of this database that compare a column a
-- one-column unique index keys (a primary key) with a constant by equality:
-- each new key the application looks up takes an entry, whatever the size.
-- The two functions are schema-qualified by the caller (their extensions' schemas).
SELECT /* pgtune */ count(*)::int AS entries,
       count(DISTINCT q.queryid)::int AS statements,
       count(*) FILTER (
           WHERE q.dbid = (SELECT d.oid FROM pg_catalog.pg_database AS d WHERE d.datname = current_database())
             AND q.rrelid IS NULL
             AND EXISTS (SELECT 1
                         FROM pg_catalog.pg_index AS i
                             JOIN pg_catalog.pg_operator AS o ON o.oid = q.opno AND o.oprname = '='
                         WHERE i.indrelid = q.lrelid AND i.indisunique AND i.indisvalid
                           AND i.indpred IS NULL AND i.indnkeyatts = 1 AND i.indkey[0] = q.lattnum)
       )::int AS unique_lookups,
       (SELECT count(*)::int FROM {statements}(true) AS s
        WHERE strpos(coalesce(s.query, ''), '/* pgtune */') = 0
          AND s.query IS DISTINCT FROM '<insufficient privilege>'
          AND NOT coalesce({utility_statement}, false)) AS pgss_statements
FROM {qualstats}() AS q;
