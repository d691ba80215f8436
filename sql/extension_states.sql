-- Finds the named extensions that are installed, with their schema and
-- version, and what outside each extension depends on it or on one of its
-- members (an index using its operator class, a view calling its function,
-- another extension): what DROP EXTENSION would refuse to drop, so rollback
-- drops an extension only when this list is empty. An object that is part of
-- a member (an operator family's operators, a view's rule) is the extension's
-- own, not a user.
-- Parameters: names.
WITH members AS (
    SELECT e.oid AS extension, m.classid, m.objid
    FROM pg_catalog.pg_extension AS e
        JOIN pg_catalog.pg_depend AS m
            ON m.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND m.refobjid = e.oid
               AND m.deptype = 'e'
    WHERE e.extname = ANY(%(names)s::text[])
    UNION ALL
    SELECT e.oid, 'pg_catalog.pg_extension'::pg_catalog.regclass, e.oid
    FROM pg_catalog.pg_extension AS e
    WHERE e.extname = ANY(%(names)s::text[])
)
SELECT /* pgtune */ e.oid AS oid,
       e.extname AS name,
       n.nspname AS schema,
       e.extversion AS version,
       array(SELECT DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid)
             FROM members AS target
                 JOIN pg_catalog.pg_depend AS d ON d.refclassid = target.classid AND d.refobjid = target.objid
             WHERE target.extension = e.oid AND d.deptype = 'n'
               AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend AS own
                                   JOIN members AS part ON part.classid = own.refclassid AND part.objid = own.refobjid
                               WHERE own.classid = d.classid AND own.objid = d.objid
                                 AND own.deptype IN ('e', 'i', 'a') AND part.extension = e.oid)
             ORDER BY 1) AS users
FROM pg_catalog.pg_extension AS e
    JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
WHERE e.extname = ANY(%(names)s::text[])
ORDER BY e.extname;
