-- Finds pg_qualstats' example of each given statement (queryid) as the
-- application sent it, constants and all: pg_stat_statements keeps the text
-- with its constants normalized to $n (analyze.written takes back the ones
-- an index key expression needs). The function is schema-qualified by the
-- caller (its extension's schema).
SELECT /* pgtune */ e.queryid, e.query
FROM {examples}() AS e
WHERE e.queryid = ANY(%(queryids)s::bigint[]);
