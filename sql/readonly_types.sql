-- Finds, among the types a measured statement casts to, those whose input runs code that is not
-- PostgreSQL's own: a type defined outside pg_catalog other than an enum (its input is pg_catalog's
-- enum_in) or a domain over a pg_catalog type or an enum whose CHECK constraints call only pg_catalog
-- functions and operators (pg_depend records what a constraint's expression calls). An extension's
-- base type (its input function is the extension's C code) and a composite are found; so is a domain
-- over either, or over another domain. Prisma compares every enum through CAST($1::text AS "Enum").
-- Parameter: names.
SELECT /* pgtune */ DISTINCT n.nspname::text AS schema, t.typname::text AS name
FROM pg_catalog.pg_type AS t
    JOIN pg_catalog.pg_namespace AS n ON n.oid = t.typnamespace
    LEFT JOIN pg_catalog.pg_type AS b ON b.oid = t.typbasetype
    LEFT JOIN pg_catalog.pg_namespace AS bn ON bn.oid = b.typnamespace
WHERE t.typname = ANY(%(names)s::text[])
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND NOT (
      t.typtype = 'e'
      OR (t.typtype = 'd'
          AND (b.typtype = 'e' OR (b.typtype = 'b' AND bn.nspname = 'pg_catalog'))
          AND NOT EXISTS (
              SELECT 1
              FROM pg_catalog.pg_constraint AS c
                  JOIN pg_catalog.pg_depend AS d
                      ON d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND d.objid = c.oid
                  LEFT JOIN pg_catalog.pg_operator AS o
                      ON d.refclassid = 'pg_catalog.pg_operator'::pg_catalog.regclass AND o.oid = d.refobjid
                  JOIN pg_catalog.pg_proc AS p
                      ON p.oid = CASE WHEN d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                                      THEN d.refobjid ELSE o.oprcode::pg_catalog.oid END
                  JOIN pg_catalog.pg_namespace AS pn ON pn.oid = p.pronamespace
              WHERE c.contypid = t.oid AND pn.nspname <> 'pg_catalog')))
ORDER BY 1, 2;
