-- Finds what Prisma Migrate's ledger (_prisma_migrations, in the schema the
-- caller puts in as {ledger}) says of the given migration folders: each row is
-- one deploy of a folder; finished_at set and rolled_back_at not: applied;
-- neither: failed (Prisma deploys nothing after it until it is resolved).
-- pgtune status reads it for a migration written with --layout prisma, which
-- Prisma, not pgtune apply, runs.
-- Parameters: names (text[]).
SELECT /* pgtune */ m.migration_name::text AS name,
       bool_or(m.finished_at IS NOT NULL AND m.rolled_back_at IS NULL) AS applied,
       bool_or(m.finished_at IS NULL AND m.rolled_back_at IS NULL) AS failed
FROM {ledger} AS m
WHERE m.migration_name = ANY (%(names)s::text[])
GROUP BY m.migration_name
ORDER BY m.migration_name;
