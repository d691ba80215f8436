-- Finds whether this session may SET ROLE to the role a target was planned under at emit (its row security):
-- SET ROLE asks the session user's membership, and from PostgreSQL 16 its SET option (GRANT ... WITH SET FALSE
-- makes a member that may not take the role). NULL: no such role any more.
SELECT /* pgtune */ CASE WHEN pg_catalog.current_setting('server_version_num')::int >= 160000
                         THEN pg_catalog.pg_has_role(session_user, r.oid, 'SET')
                         ELSE pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER') END AS can_set
FROM pg_catalog.pg_roles AS r
WHERE r.rolname = %(role)s;
