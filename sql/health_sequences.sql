-- Finds every sequence with how far it has come: its last value beside the
-- largest value it may reach, which is the smaller of its own maximum and
-- that of the column it feeds (an integer column behind a bigint sequence
-- overflows at 2^31 - 1).
SELECT /* pgtune */ s.schemaname AS schema,
       s.sequencename AS sequence,
       s.data_type::text AS data_type,
       s.last_value,
       least(s.max_value,
             CASE col.atttypid WHEN 'int2'::regtype THEN 32767
                               WHEN 'int4'::regtype THEN 2147483647
                               ELSE s.max_value END) AS max_value,
       t.relname AS table,
       col.attname AS column
FROM pg_catalog.pg_sequences AS s
    JOIN pg_catalog.pg_class AS seq ON seq.relname = s.sequencename
    JOIN pg_catalog.pg_namespace AS sn ON sn.oid = seq.relnamespace AND sn.nspname = s.schemaname
    LEFT JOIN pg_catalog.pg_depend AS d
        ON d.objid = seq.oid AND d.classid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')
           AND d.refclassid = 'pg_catalog.pg_class'::regclass
    LEFT JOIN pg_catalog.pg_class AS t ON t.oid = d.refobjid
    LEFT JOIN pg_catalog.pg_attribute AS col ON col.attrelid = d.refobjid AND col.attnum = d.refobjsubid
WHERE s.schemaname NOT IN ('pg_catalog', 'information_schema', 'pgtune')
ORDER BY s.schemaname, s.sequencename;
