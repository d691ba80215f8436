-- An index's key columns as the server prints them (pg_get_indexdef per
-- key column: a column name or an expression), its predicate, and whether its
-- NULLs count as equal (PostgreSQL 15's NULLS NOT DISTINCT; false before):
-- what health --emit groups the table's rows by before it builds an INVALID
-- unique index again, which duplicate keys would fail; whether a key is an
-- expression (computing it, as the predicate, can fail on a row: then any
-- INVALID index's build would fail again).
SELECT /* pgtune */ array(SELECT pg_catalog.pg_get_indexdef(x.indexrelid, k, true)
                          FROM generate_series(1, x.indnkeyatts) AS k
                          ORDER BY k) AS keys,
       pg_catalog.pg_get_expr(x.indpred, x.indrelid, true) AS predicate,
       coalesce((to_jsonb(x) ->> 'indnullsnotdistinct')::boolean, false) AS nulls_not_distinct,
       x.indexprs IS NOT NULL AS expressions
FROM pg_catalog.pg_index AS x
WHERE x.indexrelid = %(oid)s
