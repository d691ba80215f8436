-- Finds the schemas of the extensions pgtune reads (pg_stat_statements, HypoPG,
-- pg_qualstats) that pgtune's session cannot see, and puts them at the end of
-- its search_path: an application role whose search_path is its own schema
-- (Prisma's ?schema=app) still lets pgtune find them where CREATE EXTENSION put
-- them. Last, so the application's own names resolve first, as they do for it.
SELECT /* pgtune */ pg_catalog.set_config(
           'search_path',
           pg_catalog.concat_ws(', ', NULLIF(pg_catalog.current_setting('search_path'), ''),
                                pg_catalog.string_agg(DISTINCT pg_catalog.quote_ident(n.nspname), ', ')),
           false)
FROM pg_catalog.pg_extension AS e
    JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
WHERE e.extname IN ('pg_stat_statements', 'hypopg', 'pg_qualstats')
  AND n.nspname <> ALL (pg_catalog.current_schemas(false))
HAVING pg_catalog.count(*) > 0;
