-- The schema of each unqualified relation name as the session resolves it now (its search_path set first, in a
-- transaction): which of a migration's same-named indexes (a schema per tenant) a target's statement reads
-- (baseline_pages.planned_index). Parameters: names.
SELECT /* pgtune */ n.nspname, c.relname
FROM unnest(%(names)s::text[]) AS w(name)
    JOIN pg_catalog.pg_class AS c ON c.oid = pg_catalog.to_regclass(pg_catalog.quote_ident(w.name))
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
