-- The schema a Prisma model without @@schema lives in: the connection's (Prisma's ?schema=, set as its
-- search_path), and the tables it holds (pgtune.api._anchor).
SELECT /* pgtune */ pg_catalog.current_schema(),
       coalesce((SELECT pg_catalog.array_agg(c.relname::text) FROM pg_catalog.pg_class c
                 WHERE c.relnamespace = (SELECT n.oid FROM pg_catalog.pg_namespace n
                                         WHERE n.nspname = pg_catalog.current_schema())
                   AND c.relkind IN ('r', 'p', 'v', 'm', 'f')), '{}')
