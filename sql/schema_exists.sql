-- Finds whether this database has a schema of exactly this name (a Prisma
-- URL's ?schema=, compared as written, as Prisma quotes it). Parameter: name.
SELECT /* pgtune */ EXISTS (SELECT 1 FROM pg_catalog.pg_namespace AS n WHERE n.nspname = %(name)s);
