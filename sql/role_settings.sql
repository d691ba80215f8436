-- Finds how each of the given roles (pg_stat_statements' userid) sees this
-- database: its search_path setting (pg_db_role_setting: the role's in this
-- database, else the role's, else the database's; NULL: the server's own),
-- whether row security passes it by (superuser, BYPASSRLS), the roles it is a
-- member of (a policy applies to its roles' members) and whose privileges it
-- has (a table's owner bypasses the table's policies), the schemas it may use
-- (search_path skips the others), and whether this session may SET ROLE to it
-- (PostgreSQL 16+: the SET option of the membership). Parameter: roles (oid[]).
SELECT /* pgtune */ r.oid::int8 AS oid,
       r.rolname AS name,
       r.rolsuper AS superuser,
       r.rolbypassrls AS bypassrls,
       (SELECT pg_catalog.substr(cfg, pg_catalog.length('search_path=') + 1)
        FROM pg_catalog.pg_db_role_setting AS s
            CROSS JOIN LATERAL pg_catalog.unnest(s.setconfig) AS cfg
        WHERE pg_catalog.starts_with(cfg, 'search_path=')
          AND ((s.setrole = r.oid AND s.setdatabase IN (d.oid, 0)) OR (s.setrole = 0 AND s.setdatabase = d.oid))
        ORDER BY s.setrole = 0, s.setdatabase = 0
        LIMIT 1) AS search_path,
       array(SELECT m.oid::int8 FROM pg_catalog.pg_roles AS m
             WHERE pg_catalog.pg_has_role(r.oid, m.oid, 'MEMBER') ORDER BY m.oid) AS member_of,
       array(SELECT m.oid::int8 FROM pg_catalog.pg_roles AS m
             WHERE pg_catalog.pg_has_role(r.oid, m.oid, 'USAGE') ORDER BY m.oid) AS privileges_of,
       array(SELECT n.nspname::text FROM pg_catalog.pg_namespace AS n
             WHERE pg_catalog.has_schema_privilege(r.oid, n.oid, 'USAGE') ORDER BY n.nspname) AS schemas,
       CASE WHEN pg_catalog.current_setting('server_version_num')::int >= 160000
            THEN pg_catalog.pg_has_role(session_user, r.oid, 'SET')
            ELSE pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER') END AS can_set
FROM pg_catalog.pg_roles AS r
    CROSS JOIN (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()) AS d
WHERE r.oid = ANY (%(roles)s::oid[])
ORDER BY r.oid;
