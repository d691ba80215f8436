-- Finds the folders of pgtune's own --layout prisma migrations that Prisma Migrate's ledger
-- (_prisma_migrations, in the schema the caller puts in as {ledger}) says it deployed: applied
-- (finished_at set), not rolled back. Their names say what each built: <stamp>_pgtune_p<N>_build_<index>.
SELECT /* pgtune */ m.migration_name::text AS name
FROM {ledger} AS m
WHERE strpos(m.migration_name, '_pgtune_p') > 0
  AND m.finished_at IS NOT NULL
  AND m.rolled_back_at IS NULL
ORDER BY m.migration_name;
