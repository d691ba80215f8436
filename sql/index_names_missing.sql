-- Finds which of the index names verify --query was told to expect name no index in this database
-- (any schema): a typo or a wrong case would otherwise read as an index the plan does not use.
SELECT /* pgtune */ n.name
FROM pg_catalog.unnest(%(names)s::text[]) AS n(name)
WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_class AS c WHERE c.relname = n.name AND c.relkind IN ('i', 'I'))
ORDER BY n.name;
