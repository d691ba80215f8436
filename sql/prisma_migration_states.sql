-- Finds what Prisma Migrate's ledger (_prisma_migrations, in the schema the
-- caller puts in as {ledger}) says of the given migration folders: each row is
-- one deploy of a folder; finished_at set and rolled_back_at not: applied;
-- neither: failed (Prisma deploys nothing after it until it is resolved), or
-- still running while a deploy holds Prisma's advisory lock (72707369; a
-- CREATE INDEX CONCURRENTLY can take a while): not failed then.
-- pgtune status reads it for a migration written with --layout prisma, which
-- Prisma, not pgtune apply, runs.
-- Parameters: names (text[]).
SELECT /* pgtune */ m.migration_name::text AS name,
       bool_or(m.finished_at IS NOT NULL AND m.rolled_back_at IS NULL) AS applied,
       bool_or(m.finished_at IS NULL AND m.rolled_back_at IS NULL) AND NOT EXISTS (
           SELECT FROM pg_catalog.pg_locks AS l
           WHERE l.locktype = 'advisory' AND l.classid = 0 AND l.objid = 72707369 AND l.objsubid = 1
             AND l.granted AND l.pid <> pg_catalog.pg_backend_pid()
             AND l.database = (SELECT d.oid FROM pg_catalog.pg_database AS d
                               WHERE d.datname = pg_catalog.current_database())) AS failed
FROM {ledger} AS m
WHERE m.migration_name = ANY (%(names)s::text[])
GROUP BY m.migration_name
ORDER BY m.migration_name;
